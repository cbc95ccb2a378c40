// Per-datagram authentication once a CHAP session is bound (Connection.bindSession): every
// datagram carries a counter and a tag; a datagram with no tag, a wrong tag (another session, the
// other direction, altered bytes) or a counter already seen is dropped and counted, on the server
// and on the client. Sessions come from the auth core's handshake run in this process; the
// misbehaving peer is a raw udp socket. Last, the whole thing through the RPC layer's CHAP.
import test from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { createChannel, createServer } from "msf";
import type { DatagramConnection } from "../../runtime/transport/datagram-connection.js";
import { CONTROL_KIND, ControlType, TRAILER_BYTES, encodeConnectBody, encodeControl, encodeResetBody } from "../../runtime/transport/datagram-frame.js";
import type { UdpPeer } from "../../runtime/transport/datagram-udp-socket.js";
import { netlinkTransport } from "../../runtime/transport/netlink.js";
import type { Connection } from "../../runtime/transport/transport.js";
import { udpTransport } from "../../runtime/transport/udp.js";
import { FrameFlags, FrameKind } from "../../runtime/wire/header.js";
import { RawDatagramPeer, datagram, tagged, verifiesUnder } from "../helpers/datagram-raw-peer.js";
import { aliceKeyHex, handshakeSessions } from "../helpers/datagram-sessions.js";
import { TestService, request, testHandlers, waitFor } from "../helpers/runtime-fixtures.js";

interface Seen {
  kind: number;
  seq: number;
  body: Uint8Array;
}

/** Starts `connection` with a handler that records every frame and the close. */
function record(connection: Connection): { frames: Seen[]; closed: () => Error | null | undefined } {
  const frames: Seen[] = [];
  let closed: Error | null | undefined;
  connection.start({
    onFrame: (header, body) => frames.push({ kind: header.kind, seq: header.seq, body: Uint8Array.from(body) }),
    onClose: (error) => (closed = error ?? null),
  });
  return { frames, closed: () => closed };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const listenOptions = { maxBodyBytes: 1 << 20, unixSocketMode: 0o600 };

test("server side: after binding, untagged, mis-tagged, reflected, altered and replayed datagrams are dropped and counted", async (t) => {
  const sessions = await handshakeSessions();
  const stranger = await handshakeSessions();
  let accepted: DatagramConnection<UdpPeer> | undefined;
  const listener = await udpTransport.listen(udpTransport.parse("udp://127.0.0.1:0"), listenOptions, (connection) => {
    accepted = connection as DatagramConnection<UdpPeer>;
  });
  t.teardown(() => {
    accepted?.destroy();
    return listener.close();
  });
  const server = { address: "127.0.0.1", port: Number(listener.address.split(":").pop()) };
  const client = await RawDatagramPeer.open(t);
  await client.connect(server, bytes("conn-001"));
  await waitFor(() => accepted !== undefined, 5000, "the connection");
  const connection = accepted!;
  const { frames } = record(connection);
  connection.bindSession(sessions.server);

  let counter = 0;
  /** Sends a good tagged PING and waits until it arrives: everything sent before it has been handled. */
  const settled = async (): Promise<void> => {
    const seq = 1000 + counter;
    client.send(tagged(datagram(FrameKind.PING, seq, new Uint8Array(0)), sessions.client, "client-to-server", ++counter), server);
    await waitFor(() => frames.some((frame) => frame.kind === FrameKind.PING && frame.seq === seq), 5000, `ping ${seq}`);
  };
  const request1 = datagram(FrameKind.REQUEST, 1, bytes("first"), { method: 7 });

  client.send(request1, server);
  client.send(tagged(request1, stranger.client, "client-to-server", 50), server);
  client.send(tagged(request1, sessions.client, "server-to-client", 51), server);
  const altered = tagged(request1, sessions.client, "client-to-server", 52);
  altered[24] ^= 1;
  client.send(altered, server);
  await settled();
  t.deepEqual(frames.map((frame) => frame.kind), [FrameKind.PING], "none of the four got through");
  t.is(connection.stats.droppedSpoofed, 4);

  const good = tagged(request1, sessions.client, "client-to-server", ++counter);
  client.send(good, server);
  client.send(good, server);
  client.send(tagged(datagram(FrameKind.REQUEST, 2, bytes("same counter")), sessions.client, "client-to-server", counter), server);
  await settled();
  t.deepEqual(
    frames.filter((frame) => frame.kind === FrameKind.REQUEST).map((frame) => [frame.seq, new TextDecoder().decode(frame.body)]),
    [[1, "first"]],
  );
  t.is(connection.stats.droppedReplayed, 2);
  t.is(connection.stats.droppedSpoofed, 4);

  // A CONNECT from the same address can no longer replace an authenticated connection.
  client.send(encodeControl(ControlType.CONNECT, encodeConnectBody(bytes("conn-002"), 60_000), false), server);
  await settled();
  t.false(connection.closed);
  t.is(connection.stats.droppedSpoofed, 4);
  t.is((listener as unknown as { stats: { droppedSpoofed: number } }).stats.droppedSpoofed, 5, "counted by the listener");

  // The server's own datagrams are tagged in its direction.
  connection.send({ kind: FrameKind.RESPONSE, codec: 0, flags: 0, status: 0, seq: 1, method: 7, timeoutMs: 0 }, bytes("reply"));
  const reply = await client.waitFor((entry) => entry.kind === FrameKind.RESPONSE);
  t.is(reply.flags & FrameFlags.TAGGED, FrameFlags.TAGGED);
  t.true(verifiesUnder(reply.datagram, sessions.client, "server-to-client"));
  t.false(verifiesUnder(reply.datagram, sessions.client, "client-to-server"));
  t.deepEqual(reply.body, bytes("reply"));

  // A correctly tagged datagram from another address belongs to no connection: RESET, not delivered.
  const other = await RawDatagramPeer.open(t);
  other.send(tagged(datagram(FrameKind.REQUEST, 3, bytes("elsewhere")), sessions.client, "client-to-server", 999), server);
  const reset = await other.waitFor((entry) => entry.kind === CONTROL_KIND && entry.method === ControlType.RESET);
  t.is(reset.body.length, 24 + TRAILER_BYTES, "the RESET echoes the header and trailer");
  await settled();
  t.false(frames.some((frame) => frame.seq === 3));
});

test("client side: after binding, forged replies are dropped and counted; a RESET is believed only when it echoes our tag", async (t) => {
  const sessions = await handshakeSessions();
  const stranger = await handshakeSessions();
  const server = await RawDatagramPeer.open(t, { acceptConnects: true });
  const endpoint = udpTransport.parse(server.uri);
  const connection = (await udpTransport.connect(endpoint, { connectTimeoutMs: 5000, maxBodyBytes: 1 << 20 })) as DatagramConnection<UdpPeer>;
  t.teardown(() => connection.destroy());
  const { frames, closed } = record(connection);
  connection.bindSession(sessions.client);
  const client = server.received.find((entry) => entry.kind === CONTROL_KIND && entry.method === ControlType.CONNECT)!.from;

  connection.send({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 7, method: 3, timeoutMs: 5000 }, bytes("question"));
  const sent = await server.waitFor((entry) => entry.kind === FrameKind.REQUEST && entry.seq === 7);
  t.true(verifiesUnder(sent.datagram, sessions.server, "client-to-server"), "the request is tagged in the client's direction");

  let counter = 0;
  const response = (seq: number, text: string) => datagram(FrameKind.RESPONSE, seq, bytes(text), { method: 3 });
  server.send(response(7, "untagged"), client);
  server.send(tagged(response(7, "other session"), stranger.server, "server-to-client", 40), client);
  server.send(tagged(response(7, "reflected"), sessions.server, "client-to-server", 41), client);
  const answer = tagged(response(7, "answer"), sessions.server, "server-to-client", ++counter);
  server.send(answer, client);
  server.send(answer, client);
  await waitFor(() => frames.length >= 1, 5000, "the answer");
  await waitFor(() => connection.stats.droppedReplayed >= 1, 5000, "the replay to be counted");
  t.deepEqual(
    frames.map((frame) => new TextDecoder().decode(frame.body)),
    ["answer"],
  );
  t.is(connection.stats.droppedSpoofed, 3);
  t.is(connection.stats.droppedReplayed, 1);

  // A RESET that does not echo one of our tags is forged; one that does closes the connection.
  server.send(encodeControl(ControlType.RESET, encodeResetBody(tagged(datagram(FrameKind.REQUEST, 7, bytes("question")), stranger.client, "client-to-server", 1)), false), client);
  await waitFor(() => connection.stats.droppedSpoofed === 4, 5000, "the forged RESET");
  t.false(connection.closed);
  server.send(encodeControl(ControlType.RESET, encodeResetBody(sent.datagram), false), client);
  await waitFor(() => closed() !== undefined, 5000, "the close");
  t.regex(String(closed()), /reset the connection: the server has no connection from this client/);
});

for (const [label, listen, stats] of [
  ["udp", "udp://127.0.0.1:0", udpTransport.stats],
  ["netlink", "netlink://0", netlinkTransport.stats],
] as const) {
  // Serial: it reads the process-wide counters, which the forgeries of the other tests would move.
  test.serial(`${label}: CHAP through the RPC layer survives loss and copies; then datagrams are tagged (copies caught as replays), none taken for forgeries`, async (t) => {
    const before = stats.snapshot();
    const ran: string[] = [];
    const server = createServer({
      listen: [`${listen}?dropEvery=4`],
      auth: { credentials: { alice: { key: aliceKeyHex() } }, serverName: "flightd", throttle: false },
    });
    server.addService(TestService, { ...testHandlers({ aborts: new Map(), ran }) });
    await server.start();
    t.teardown(() => server.close({ graceMs: 0 }));
    const channel = createChannel(`${server.addresses[0]}?dropEvery=5&duplicate=1`, { timeoutMs: 10_000, auth: { name: "alice", key: aliceKeyHex(), serverName: "flightd" } });
    t.teardown(() => channel.close());
    const names = Array.from({ length: 40 }, (_, i) => `chap-${i}`);
    const replies = await Promise.all(names.map((name) => channel.unary(TestService.methods.echo, request(name))));
    t.deepEqual(
      replies.map((reply) => reply.flightsInfo),
      names,
    );
    t.deepEqual([...ran].sort(), [...names].sort(), "each handler ran once");
    await sleep(50);
    const after = stats.snapshot();
    t.is(after.droppedSpoofed, before.droppedSpoofed, "the handshake's own copies are not taken for forgeries");
    t.true(after.faultDropped > before.faultDropped);
    t.true(after.droppedReplayed > before.droppedReplayed, "the client's copies of tagged datagrams met the replay guard");
  });
}
