// The sync_socket addon's datagram functions on their own (udp and netlink sockets driven on the
// calling thread), against event-loop sockets of this process: node:dgram, and the netlink
// addon's sockets. Each blocking receive is made only when what it waits for is already in the
// kernel, or to see it time out, so this process's event loop is never needed while it blocks.
import test from "ava";
import { once } from "node:events";
import { type RemoteInfo, createSocket } from "node:dgram";
import { constants as osConstants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { hasDatagrams, loadSyncSocket, type SyncSocketAddon } from "../../runtime/client/sync-native-addon.js";
import { loadNetlinkAddon } from "../../runtime/transport/datagram-netlink-socket.js";

const load = loadSyncSocket();
if (!load.ok) throw new Error(`the sync_socket addon must be built for these tests (node scripts/build-native.mjs): ${load.reason}`);
const addon: SyncSocketAddon = load.addon;
const { ECONNREFUSED } = osConstants.errno;

function catchCoded(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error("expected a throw");
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (buffer: Uint8Array, length: number): string => new TextDecoder().decode(buffer.subarray(0, length));

test("the addon is built with datagram support", (t) => {
  t.true(hasDatagrams(addon));
});

for (const [family, host, bind] of [
  ["udp4", "127.0.0.1", "127.0.0.1"],
  ["udp6", "::1", "::1"],
] as const) {
  test(`udp to ${host}: datagrams both ways, one per call; one larger than the buffer is dropped; nothing is -1`, async (t) => {
    const server = createSocket(family);
    t.teardown(() => server.close());
    server.bind(0, bind);
    await once(server, "listening");
    const fd = addon.openUdp(host, server.address().port);
    t.teardown(() => addon.close(fd));

    const arriving = once(server, "message") as Promise<[Buffer, RemoteInfo]>;
    t.is(addon.sendUdp(fd, bytes("hello")), 0);
    const [message, from] = await arriving;
    t.is(message.toString(), "hello");

    const buffer = new Uint8Array(16);
    t.is(addon.receiveUdp(fd, buffer, 0), -1, "nothing there, no wait");
    for (const answer of ["first", "x".repeat(40), "third"]) {
      await new Promise<void>((done, fail) => server.send(answer, from.port, from.address, (error) => (error ? fail(error) : done())));
    }
    t.is(text(buffer, addon.receiveUdp(fd, buffer, 1000)), "first");
    // The 40-byte one does not fit in 16 bytes: dropped, and the next one is read.
    t.is(text(buffer, addon.receiveUdp(fd, buffer, 1000)), "third");
    const started = performance.now();
    t.is(addon.receiveUdp(fd, buffer, 30), -1);
    t.true(performance.now() - started >= 29, "waited its timeout");
  });
}

test("udp to a port nobody listens on: the ICMP answer is ECONNREFUSED on a later send or receive", async (t) => {
  const probe = createSocket("udp4");
  probe.bind(0, "127.0.0.1");
  await once(probe, "listening");
  const port = probe.address().port;
  await new Promise<void>((done) => probe.close(done));
  const fd = addon.openUdp("127.0.0.1", port);
  t.teardown(() => addon.close(fd));
  t.is(addon.sendUdp(fd, bytes("anyone?")), 0);
  await sleep(20);
  const refused = catchCoded(() => addon.receiveUdp(fd, new Uint8Array(16), 1000));
  t.is(refused.code, "ECONNREFUSED");
  t.is(refused.syscall, "recvmsg");
});

test("netlink: frames both ways with an event-loop netlink socket; the kernel refuses other senders; nobody bound is ECONNREFUSED", async (t) => {
  const netlink = loadNetlinkAddon();
  if (!netlink.ok) throw new Error(`the netlink addon must be built for this test: ${netlink.reason}`);
  const received: { from: number; text: string }[] = [];
  const open = (): ReturnType<typeof netlink.addon.open> =>
    netlink.addon.open(
      0,
      65_536,
      1 << 20,
      (data, meta, count) => {
        for (let i = 0; i < count; i++) received.push({ from: meta[i * 3]!, text: data.subarray(meta[i * 3 + 1]!, meta[i * 3 + 1]! + meta[i * 3 + 2]!).toString() });
      },
      () => {},
    );
  const peer = open();
  const stranger = open();
  t.teardown(() => {
    netlink.addon.close(peer);
    netlink.addon.close(stranger);
  });

  const socket = addon.openNetlink(peer.port, 1 << 20);
  t.teardown(() => addon.close(socket.fd));
  t.true(socket.port > 0 && socket.port !== peer.port);
  t.true(socket.sendBufferBytes >= 65_536);
  t.is(addon.sendNetlink(socket.fd, socket.port, bytes("ping")), 0);
  const deadline = Date.now() + 5000;
  while (received.length === 0 && Date.now() < deadline) await sleep(5);
  t.deepEqual(received, [{ from: socket.port, text: "ping" }]);

  const results = new Int32Array(1);
  t.is(netlink.addon.sendBatch(stranger, Uint32Array.of(socket.port), [bytes("not for you")], 1, results), 1);
  t.is(results[0], ECONNREFUSED, "a connected netlink socket takes unicasts from its peer only");
  t.is(netlink.addon.sendBatch(peer, Uint32Array.of(socket.port), [bytes("pong")], 1, results), 0);
  const buffer = new Uint8Array(64);
  t.is(text(buffer, addon.receiveNetlink(socket.fd, peer.port, buffer, 1000)), "pong", "the frame, without its nlmsghdr");
  t.is(addon.receiveNetlink(socket.fd, peer.port, buffer, 0), -1);

  const alone = addon.openNetlink(4_000_000_001, 1 << 20);
  t.teardown(() => addon.close(alone.fd));
  t.is(addon.sendNetlink(alone.fd, alone.port, bytes("anyone?")), ECONNREFUSED);
});

test("bad arguments throw TypeError; a host that does not resolve is ENOTFOUND", (t) => {
  t.is(catchCoded(() => addon.openUdp("127.0.0.1", 0)).name, "TypeError");
  t.is(catchCoded(() => addon.openUdp("", 9)).name, "TypeError");
  t.is(catchCoded(() => addon.openNetlink(0, 1024)).name, "TypeError");
  t.is(catchCoded(() => addon.sendUdp(-1, new Uint8Array(1))).name, "TypeError");
  t.is(catchCoded(() => addon.receiveUdp(0, new Uint16Array(4) as unknown as Uint8Array, 0)).name, "TypeError");
  t.is(catchCoded(() => addon.sendNetlink(0, -1, new Uint8Array(1))).name, "TypeError");
  t.is(catchCoded(() => addon.openUdp("no-such-host.invalid", 9)).code, "ENOTFOUND");
});
