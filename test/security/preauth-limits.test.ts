// What an unauthenticated peer can make a server with CHAP hold, over unix and tcp: before the
// handshake succeeds no frame may be larger than the largest AUTH message (2048 bytes), so a
// header announcing a bigger body closes the connection at once, before any body byte, instead
// of having the server buffer up to maxBodyBytes (4 MiB) of a frame it would refuse anyway.
// After authentication the server's own limit applies again. (Datagram transports are bounded by
// their datagram size: test/fuzz/live-datagram.test.ts.)
import test, { type ExecutionContext } from "ava";
import { Code } from "msf";
import { FrameKind, HEADER_BYTES, writeU32, type OutgoingHeader } from "msf/internal";
import { AuthService } from "../helpers/auth-fixtures.js";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { request } from "../helpers/runtime-fixtures.js";
import { AUTH_HEADER, authenticate, challengeOf, closedWithin, startGuardedServer } from "./helpers/guarded-server.js";
import { rawLink, type RawLink } from "./helpers/raw-link.js";
import { listenAddress, type TransportKind } from "./helpers/transports.js";

const { whoami } = AuthService.methods;
const kinds: TransportKind[] = ["unix", "tcp"];

/** A bare header announcing `length` body bytes, none of which are sent. */
function headerOnly(header: OutgoingHeader, length: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes.set([0x4d, 0x53, 1, header.kind, header.codec, header.flags, 0, 0]);
  writeU32(bytes, 8, header.seq);
  writeU32(bytes, 12, header.method);
  writeU32(bytes, 20, length);
  return bytes;
}

async function challenged(t: ExecutionContext, address: string): Promise<RawLink> {
  const link = await rawLink(t, address);
  await challengeOf(link);
  return link;
}

for (const kind of kinds) {
  test(`${kind}: before authentication a header announcing more than 2048 body bytes closes the connection at once`, async (t) => {
    // A 10 s handshake timeout (the default): a close within 4 s is the limit's doing.
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const request1 = await challenged(t, guarded.address);
    request1.sendRaw(headerOnly({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: whoami.id, timeoutMs: 0 }, 1024 * 1024));
    await closedWithin(request1, 4000);
    const auth = await challenged(t, guarded.address);
    auth.sendRaw(headerOnly(AUTH_HEADER, 2049));
    await closedWithin(auth, 4000);
    // 2048 is allowed (and then refused for what it says, not for its size).
    const exact = await challenged(t, guarded.address);
    exact.send(AUTH_HEADER, new Uint8Array(2048).fill(2));
    await closedWithin(exact, 4000);
    t.deepEqual(guarded.failures.map((info) => info.reason), ["MALFORMED"]);
    t.deepEqual(guarded.ran, []);
  });

  test(`${kind}: once authenticated, the server's own limit applies: a 1 MiB request is served`, async (t) => {
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const link = await rawLink(t, guarded.address);
    await authenticate(link);
    const big = QueryFlightRequest.encode(request("x".repeat(1024 * 1024))).finish();
    link.send({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: whoami.id, timeoutMs: 0 }, big);
    const reply = await link.waitFor((frame) => frame.header.kind === FrameKind.RESPONSE && frame.header.seq === 1, 10_000);
    t.is(reply.header.status, Code.OK);
    t.is(QueryFlightResponse.decode(reply.body).errmsg.length, 1024 * 1024);
  });
}
