// Forged and replayed datagrams against a real server with CHAP over udp and netlink. Once the
// session is bound every datagram must carry a valid tag under the client's direction key and a
// fresh counter (docs/protocol.md, "Authentication of every datagram"): anything else is dropped
// and counted, never run, and the authenticated connection goes on. The attacker here holds the
// link itself (the strongest position short of the key): it replays its own datagrams, strips or
// breaks tags, reflects the server's replies, and replays them into a later session.
// Serial: it reads the transports' process-wide counters.
import test from "ava";
import { Code } from "msf";
import { FrameKind, type OutgoingHeader } from "msf/internal";
import { TRAILER_BYTES } from "../../runtime/transport/datagram-frame.js";
import { datagram, tagged, verifiesUnder } from "../helpers/datagram-raw-peer.js";
import { handshakeSessions } from "../helpers/datagram-sessions.js";
import { AuthService } from "../helpers/auth-fixtures.js";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { request, waitFor } from "../helpers/runtime-fixtures.js";
import { authenticate, startGuardedServer } from "./helpers/guarded-server.js";
import { rawLink, type LinkFrame, type RawLink } from "./helpers/raw-link.js";
import { datagramStats, datagramTransports, listenAddress } from "./helpers/transports.js";

const { whoami } = AuthService.methods;

function whoamiHeader(seq: number): OutgoingHeader {
  return { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq, method: whoami.id, timeoutMs: 5000 };
}

function body(name: string): Uint8Array {
  return QueryFlightRequest.encode(request(name)).finish();
}

function replyTo(seq: number) {
  return (frame: LinkFrame) => frame.header.kind === FrameKind.RESPONSE && frame.header.seq === seq;
}

/** Sends a good request and waits for its reply: everything the link sent before has been handled. */
async function roundTrip(link: RawLink, seq: number, name: string): Promise<LinkFrame> {
  link.send(whoamiHeader(seq), body(name));
  return link.waitFor(replyTo(seq), 5000, `the reply to ${name}`);
}

for (const kind of datagramTransports) {
  test.serial(`${kind}: replayed, untagged, mis-tagged, altered and reflected datagrams are dropped and counted; the session goes on`, async (t) => {
    const stats = datagramStats(kind);
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const link = await rawLink(t, guarded.address);
    const { session } = await authenticate(link);
    const stranger = await handshakeSessions();

    const first = await roundTrip(link, 1, "one");
    t.is(first.header.status, Code.OK);
    t.true(verifiesUnder(first.datagram!, session, "server-to-client"), "the reply is tagged in the server's direction");
    const recorded = link.sent.at(-1)!;

    const before = stats.snapshot();
    // The same datagram three times (same counter): replays.
    for (let i = 0; i < 3; i++) link.sendRaw(recorded);
    // A new request without a tag, under another session's key, in the wrong direction, altered after tagging.
    const plain = datagram(FrameKind.REQUEST, 2, body("forged"), { method: whoami.id, timeoutMs: 5000 });
    link.sendRaw(plain);
    link.sendRaw(tagged(plain, stranger.client, "client-to-server", 1_000));
    link.sendRaw(tagged(plain, session, "server-to-client", 1_001));
    const altered = tagged(plain, session, "client-to-server", 1_002);
    altered[altered.length - TRAILER_BYTES - 1]! ^= 0x01;
    link.sendRaw(altered);
    // The server's own reply sent back to it.
    link.sendRaw(first.datagram!);
    const next = await roundTrip(link, 3, "three");
    t.is(next.header.status, Code.OK);
    t.is(QueryFlightResponse.decode(next.body).flightsInfo, "alice");
    await waitFor(() => stats.droppedSpoofed - before.droppedSpoofed >= 5, 2000, "the forgeries to be counted");
    const after = stats.snapshot();
    t.is(after.droppedReplayed - before.droppedReplayed, 3, "three replays");
    t.is(after.droppedSpoofed - before.droppedSpoofed, 5, "untagged, stranger's key, wrong direction, altered, reflected");
    t.deepEqual(guarded.ran, ["one", "three"], "no forged or replayed request ran");
    t.false(link.isClosed, "forgeries do not end the authenticated connection");
    t.false(link.frames.some(replyTo(2)), "nothing answered the forged seq 2");
  });

  test.serial(`${kind}: datagrams of an earlier session replayed into a new one are forgeries; a stranger's copy gets a RESET and runs nothing`, async (t) => {
    const stats = datagramStats(kind);
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const old = await rawLink(t, guarded.address);
    await authenticate(old);
    await roundTrip(old, 1, "old session");
    const recorded = old.sent.at(-1)!;
    old.destroy();

    const fresh = await rawLink(t, guarded.address);
    await authenticate(fresh);
    const before = stats.snapshot();
    fresh.sendRaw(recorded);
    await roundTrip(fresh, 2, "new session");
    await waitFor(() => stats.droppedSpoofed > before.droppedSpoofed, 2000, "the old datagram to be counted");
    t.is(stats.droppedSpoofed - before.droppedSpoofed, 1);

    // From an address with no connection: not run, answered RESET (which a stranger learns nothing from).
    const stranger = await rawLink(t, guarded.address, { connect: false });
    stranger.sendRaw(recorded);
    await stranger.closed;
    await roundTrip(fresh, 3, "still there");
    t.deepEqual(guarded.ran, ["old session", "new session", "still there"]);
  });
}
