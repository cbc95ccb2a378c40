// Hostile datagrams against real servers over udp and netlink: generated datagrams that are not
// one well-formed frame (too short, wrong magic, version or kind, a length that does not match the
// datagram's size) from a peer with a connection and from a stranger. A datagram can come from
// anyone, so none of them may close a connection: each is dropped and counted droppedMalformed,
// the connected peer is still answered, and a channel's calls are answered throughout.
// Serial: it reads the transports' process-wide counters.
import test from "ava";
import fc from "fast-check";
import { createChannel, createServer } from "msf";
import { FrameKind, HEADER_BYTES, MAGIC, PROTOCOL_VERSION, writeU32 } from "msf/internal";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { TestService, request, testHandlers, waitFor } from "../helpers/runtime-fixtures.js";
import { rawLink } from "../security/helpers/raw-link.js";
import { datagramStats, datagramTransports, listenAddress } from "../security/helpers/transports.js";
import { fcParameters, fuzzRuns } from "./helpers/fuzz-runs.js";

/** Datagrams that are not one frame, by construction. */
const malformedArb = fc.oneof(
  fc.uint8Array({ maxLength: HEADER_BYTES - 1 }),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }).filter((magic) => magic !== MAGIC), fc.uint8Array({ minLength: 22, maxLength: 200 })).map(([magic, rest]) => Uint8Array.from([magic >>> 8, magic & 0xff, ...rest])),
  fc.tuple(fc.integer({ min: 0, max: 255 }).filter((version) => version !== PROTOCOL_VERSION), fc.uint8Array({ minLength: 21, maxLength: 200 })).map(([version, rest]) => Uint8Array.from([0x4d, 0x53, version, ...rest])),
  fc.tuple(fc.oneof(fc.constant(0), fc.integer({ min: 9, max: 255 })), fc.uint8Array({ minLength: 20, maxLength: 200 })).map(([kind, rest]) => Uint8Array.from([0x4d, 0x53, 1, kind, ...rest])),
  // A frame whose declared length does not match the datagram (trailer counted when flagged).
  fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 0xffff })).map(([kind, flags, body, skew]) => {
    const out = new Uint8Array(HEADER_BYTES + body.length);
    out.set([0x4d, 0x53, 1, kind, 0, flags]);
    out.set(body, HEADER_BYTES);
    const trailer = (flags & 4) !== 0 ? 24 : 0;
    const rightLength = body.length - trailer;
    writeU32(out, 20, rightLength >= 0 && rightLength - skew >= 0 && (skew & 1) === 0 ? rightLength - skew : rightLength + skew);
    return out;
  }),
);

for (const kind of datagramTransports) {
  test.serial(`${kind}: malformed datagrams from a connected peer and from a stranger are dropped and counted; nothing closes, calls go on`, async (t) => {
    const stats = datagramStats(kind);
    const server = createServer({ listen: [listenAddress(t, kind)] }).addService(TestService, testHandlers());
    await server.start();
    t.teardown(() => server.close({ graceMs: 0 }));
    const address = server.addresses[0]!;
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const connected = await rawLink(t, address);
    const stranger = await rawLink(t, address, { connect: false });

    const runs = fuzzRuns(10, 100, 20_000);
    const before = stats.droppedMalformed;
    let sent = 0;
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(malformedArb, fc.boolean(), async (datagram, fromStranger) => {
        (fromStranger ? stranger : connected).sendRaw(datagram);
        sent++;
        if (sent % 25 === 0) {
          calls++;
          const reply = await channel.unary(TestService.methods.echo, request(`call ${calls}`));
          if (reply.flightsInfo !== `call ${calls}`) return false;
        }
        return true;
      }),
      fcParameters(runs),
    );
    await waitFor(() => stats.droppedMalformed - before >= sent, 5000, `${sent} datagrams counted as malformed`);
    t.is(stats.droppedMalformed - before, sent);
    t.log(`${kind}: ${sent} malformed datagrams dropped and counted; ${calls} calls answered meanwhile`);

    // The connected peer's connection survived all of it.
    t.false(connected.isClosed);
    connected.send({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: TestService.methods.echo.id, timeoutMs: 5000 }, QueryFlightRequest.encode(request("raw")).finish());
    const reply = await connected.waitFor((frame) => frame.header.kind === FrameKind.RESPONSE && frame.header.seq === 1);
    t.is(QueryFlightResponse.decode(reply.body).flightsInfo, "raw");
    t.false(stranger.isClosed, "malformed datagrams are not even answered with RESET");
  });
}
