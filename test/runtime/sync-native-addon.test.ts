// The sync_socket addon's functions on their own, against node:net servers in this process. Each
// blocking addon call is made only when what it waits for is already in the kernel (data written,
// connection queued), or to see it time out, so this process's event loop is never needed while
// it blocks.
import test from "ava";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadSyncSocket, type SyncSocketAddon } from "../../runtime/client/sync-native-addon.js";

const load = loadSyncSocket();
if (!load.ok) throw new Error(`the sync_socket addon must be built for these tests (node scripts/build-native.mjs): ${load.reason}`);
const addon: SyncSocketAddon = load.addon;

let dir = "";
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), "msf-sync-socket-"));
});
test.after.always(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

interface Listening {
  server: Server;
  /** Accepted sockets, in order. */
  accepted: Socket[];
  /** Resolves with the next accepted socket. */
  next(): Promise<Socket>;
  close(): Promise<void>;
}

async function listen(options: { path: string } | { host: string; port: number }, backlog?: number): Promise<Listening> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    accepted.push(socket);
    server.emit("accepted", socket);
  });
  server.listen({ ...options, ...(backlog !== undefined && { backlog }) });
  await once(server, "listening");
  return {
    server,
    accepted,
    next: async () => (await once(server, "accepted"))[0] as Socket,
    close: async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Writes through node:net and waits until the bytes are in the kernel. */
async function serverWrite(socket: Socket, text: string): Promise<void> {
  await new Promise<void>((done, fail) => socket.write(text, (error) => (error ? fail(error) : done())));
}

function text(buffer: Uint8Array, count: number, offset = 0): string {
  return Buffer.from(buffer.subarray(offset, offset + count)).toString();
}

function catchCoded(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error("expected a throw");
}

test("unix: connect, write, read what arrived, read at an offset, time out, see end of stream", async (t) => {
  const path = join(dir, "plain.sock");
  const server = await listen({ path });
  t.teardown(() => server.close());
  const fd = addon.connectUnix(Buffer.from(path), 1000);
  t.teardown(() => addon.close(fd));
  const peer = await server.next();

  const received = once(peer, "data");
  t.is(addon.write(fd, Buffer.from("ping"), 1000), 4);
  t.is(String((await received)[0]), "ping");

  const buffer = new Uint8Array(16);
  t.is(addon.read(fd, buffer, 0, 0), -1, "nothing there, no wait");
  const start = performance.now();
  t.is(addon.read(fd, buffer, 0, 30), -1, "nothing within 30 ms");
  t.true(performance.now() - start >= 30, "waited the whole timeout");

  await serverWrite(peer, "pong");
  t.is(addon.read(fd, buffer, 3, 1000), 4);
  t.is(text(buffer, 4, 3), "pong");

  peer.end();
  await once(peer, "finish");
  t.is(addon.read(fd, buffer, 0, 1000), 0, "end of stream");
});

test("unix: abstract names connect; descriptors are non-blocking and close-on-exec", async (t) => {
  const name = `msf-sync-socket-test-${process.pid}`;
  const server = await listen({ path: `\0${name}` });
  t.teardown(() => server.close());
  const fd = addon.connectUnix(Buffer.from(`\0${name}`), 1000);
  t.teardown(() => addon.close(fd));
  await server.next();
  const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))![1]!;
  const value = Number.parseInt(flags, 8);
  t.true((value & 0o2000000) !== 0, `O_CLOEXEC in ${flags}`);
  t.true((value & 0o4000) !== 0, `O_NONBLOCK in ${flags}`);
});

test("tcp: IPv4, IPv6 and a host name connect and carry bytes both ways", async (t) => {
  for (const host of ["127.0.0.1", "::1", "localhost"]) {
    const server = await listen({ host: host === "localhost" ? "127.0.0.1" : host, port: 0 });
    const port = (server.server.address() as AddressInfo).port;
    try {
      // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
      const fd = addon.connectTcp(host, port, 1000);
      try {
        const peer = await server.next();
        const received = once(peer, "data");
        addon.write(fd, Buffer.from(`hello ${host}`), 1000);
        t.is(String((await received)[0]), `hello ${host}`);
        await serverWrite(peer, "back");
        const buffer = new Uint8Array(8);
        t.is(text(buffer, addon.read(fd, buffer, 0, 1000)), "back", host);
      } finally {
        addon.close(fd);
      }
    } finally {
      await server.close();
    }
  }
});

test("failures throw errors named by errno; bad arguments throw TypeError", async (t) => {
  const missing = catchCoded(() => addon.connectUnix(Buffer.from(join(dir, "nobody.sock")), 1000));
  t.is(missing.code, "ENOENT");
  t.is(missing.syscall, "connect");
  t.regex(missing.message, /^connect: /);

  const probe = await listen({ host: "127.0.0.1", port: 0 });
  const port = (probe.server.address() as AddressInfo).port;
  await probe.close();
  t.is(catchCoded(() => addon.connectTcp("127.0.0.1", port, 1000)).code, "ECONNREFUSED");
  t.is(catchCoded(() => addon.connectTcp("no-such-host.invalid", 80, 1000)).code, "ENOTFOUND");

  t.is(catchCoded(() => addon.read(-1, new Uint8Array(4), 0, 0)).name, "TypeError");
  t.is(catchCoded(() => addon.read(0, new Uint16Array(4) as unknown as Uint8Array, 0, 0)).name, "TypeError");
  t.is(catchCoded(() => addon.read(0, new Uint8Array(4), 4, 0)).name, "TypeError", "no room at the offset");
  t.is(catchCoded(() => addon.connectTcp("127.0.0.1", 0, 10)).name, "TypeError");
  t.is(catchCoded(() => addon.connectUnix(new Uint8Array(200).fill(0x61), 10)).code, "EINVAL", "longer than sun_path");
});

test("a peer that stops reading: write returns what fit once its timeout passes; a reset peer fails the next write", async (t) => {
  const path = join(dir, "full.sock");
  const server = await listen({ path });
  t.teardown(() => server.close());
  const fd = addon.connectUnix(Buffer.from(path), 1000);
  t.teardown(() => addon.close(fd));
  const peer = await server.next();
  peer.pause();
  const big = new Uint8Array(32 * 1024 * 1024);
  const start = performance.now();
  const written = addon.write(fd, big, 50);
  t.true(written > 0 && written < big.length, `wrote ${written} of ${big.length}`);
  t.true(performance.now() - start >= 50);

  peer.destroy();
  await once(peer, "close");
  const error = catchCoded(() => {
    // The first write after the reset may still be accepted on some kernels; the next one fails.
    for (let i = 0; i < 3; i++) addon.write(fd, Buffer.from("x"), 100);
  });
  t.true(error.code === "EPIPE" || error.code === "ECONNRESET", String(error.code));
});

test("connect gives up after its timeout when the listener's queue is full", async (t) => {
  const path = join(dir, "backlog.sock");
  const server = await listen({ path }, 1);
  t.teardown(() => server.close());
  // All in one synchronous stretch: the event loop accepts nothing meanwhile, so the queue fills.
  const fds: number[] = [];
  let error: NodeJS.ErrnoException | undefined;
  const start = performance.now();
  let elapsed = 0;
  try {
    for (let i = 0; i < 64 && error === undefined; i++) {
      const attempt = performance.now();
      try {
        fds.push(addon.connectUnix(Buffer.from(path), 40));
      } catch (caught) {
        error = caught as NodeJS.ErrnoException;
        elapsed = performance.now() - attempt;
      }
    }
  } finally {
    for (const fd of fds) addon.close(fd);
  }
  t.truthy(error, `${fds.length} connections queued without a timeout`);
  t.is(error!.code, "ETIMEDOUT");
  t.regex(error!.message, /no answer within 40 ms/);
  t.true(elapsed >= 40, `gave up after ${elapsed} ms`);
  t.true(performance.now() - start < 5000);
  // Let the server accept and drop what was queued, so close() completes.
  await sleep(10);
});
