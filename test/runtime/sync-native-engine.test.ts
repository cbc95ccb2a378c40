// Which engine serves blocking calls (native or worker) and why, and how the native engine words
// a connection that does not come up in time. The listeners here are node:net servers in this
// process whose accept queue is filled in one synchronous stretch, so connecting blocks.
import test from "ava";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RpcError } from "msf";
import { SyncCaller } from "../../runtime/client/sync-caller.js";
import { loadSyncSocket } from "../../runtime/client/sync-native-addon.js";
import { chooseSyncImpl, nativeUnsupported } from "../../runtime/client/sync-native-target.js";
import { bison } from "../helpers/flight-service.js";
import { scriptService } from "../helpers/sync-native-service.js";

const load = loadSyncSocket();
if (!load.ok) throw new Error(`the sync_socket addon must be built for these tests (node scripts/build-native.mjs): ${load.reason}`);
const addon = load.addon;
const { echo } = scriptService.methods;

let dir = "";
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), "msf-sync-engine-"));
});
test.after.always(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` with MSF_SYNC_IMPL set to `value` (undefined: unset), restoring it after; `fn` must be synchronous. */
function withImpl<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.MSF_SYNC_IMPL;
  if (value === undefined) delete process.env.MSF_SYNC_IMPL;
  else process.env.MSF_SYNC_IMPL = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.MSF_SYNC_IMPL;
    else process.env.MSF_SYNC_IMPL = saved;
  }
}

function throwsRpc(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected an RpcError, the call returned");
}

test("the native engine is chosen for one unix, tcp, udp or netlink address with options it implements", (t) => {
  const targets = [
    "unix:/run/x.sock",
    "unix:@name",
    "tcp://127.0.0.1:7000",
    "tcp://[::1]:7000",
    "tcp://localhost:7000",
    "udp://127.0.0.1:7000",
    "udp://[::1]:7000?maxDatagram=1472&dropEvery=3",
    "netlink://7",
  ];
  for (const target of targets) {
    t.is(withImpl(undefined, () => chooseSyncImpl(target, {})), "native", target);
    t.is(nativeUnsupported(target, { timeoutMs: 5, codec: "json", maxBodyBytes: 10, connectTimeoutMs: 5 }), undefined, target);
  }
  t.is(withImpl("auto", () => chooseSyncImpl("unix:/run/x.sock", { auth: { name: "alice", secret: "s" } })), "native");
  const caller = withImpl(undefined, () => new SyncCaller("unix:/run/x.sock", {}));
  t.is(caller.impl, "native");
  caller.close();
});

test("everything else goes to the worker engine, with the reason", (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unix:/run/a.sock,tcp://127.0.0.1:7000", {}, /lists several endpoints/],
    ["udp://127.0.0.1:7000,netlink://7", {}, /lists several endpoints/],
    ["tcp://127.0.0.1:0", {}, /port 0/],
    ["udp://127.0.0.1:0", {}, /port 0 is only for listening/],
    ["netlink://0", {}, /port id 0 is only for listening/],
    ["unix:/run/x.sock", { someFutureOption: true }, /channel option someFutureOption is not supported/],
  ];
  for (const [target, options, reason] of cases) {
    t.regex(nativeUnsupported(target, options) ?? "(none)", reason, target);
    t.is(withImpl(undefined, () => chooseSyncImpl(target, options)), "worker", target);
  }
  // A missing addon (an install that skipped the build): the reason says where it was looked for.
  const missing = { ok: false as const, reason: "/x/native/sync-socket/build/Release/sync_socket.node does not exist" };
  t.regex(nativeUnsupported("unix:/run/x.sock", {}, missing) ?? "(none)", /sync_socket addon is not available: .*does not exist/);
  // An addon built before datagram support: streams still native, datagrams to the worker.
  const { openUdp: _openUdp, openNetlink: _openNetlink, receiveNetlink: _receiveNetlink, ...streamsOnly } = addon;
  const older = { ok: true as const, addon: streamsOnly as unknown as typeof addon };
  t.is(nativeUnsupported("tcp://127.0.0.1:7000", {}, older), undefined);
  for (const target of ["udp://127.0.0.1:7000", "netlink://7"]) {
    t.regex(nativeUnsupported(target, {}, older) ?? "(none)", /built without datagram support \(rebuild it: node scripts\/build-native\.mjs\)/, target);
  }
});

test("MSF_SYNC_IMPL forces an engine; forcing native where it cannot work fails clearly; a bad value is refused", (t) => {
  t.is(withImpl("worker", () => chooseSyncImpl("unix:/run/x.sock", {})), "worker");
  t.is(withImpl("native", () => chooseSyncImpl("unix:/run/a.sock,unix:/run/b.sock", {})), "native");
  const forced = withImpl("native", () => throwsRpc(() => new SyncCaller("unix:/run/a.sock,unix:/run/b.sock", {})));
  t.is(forced.code, Code.FAILED_PRECONDITION);
  t.regex(forced.message, /native blocking calls to .* are not possible: the target lists several endpoints/);
  const bad = withImpl("fast", () => throwsRpc(() => chooseSyncImpl("unix:/run/x.sock", {})));
  t.is(bad.code, Code.INVALID_ARGUMENT);
  t.regex(bad.message, /MSF_SYNC_IMPL is "fast"; expected "native", "worker"/);
  const worker = withImpl("worker", () => new SyncCaller("unix:/run/x.sock", {}));
  t.is(worker.impl, "worker");
  worker.close();
});

test("bad option values are INVALID_ARGUMENT at construction", (t) => {
  for (const options of [{ maxBodyBytes: 0 }, { connectTimeoutMs: -1 }, { timeoutMs: Number.NaN }]) {
    const error = throwsRpc(() => new SyncCaller("unix:/run/x.sock", options, "native"));
    t.is(error.code, Code.INVALID_ARGUMENT, JSON.stringify(options));
  }
});

/** A unix listener whose accept queue is full: connecting to it waits until a timeout. */
async function fullListener(name: string): Promise<{ target: string; close(): Promise<void> }> {
  const path = join(dir, name);
  const server: Server = createServer((socket) => socket.destroy());
  server.listen({ path, backlog: 1 });
  await once(server, "listening");
  const queued: number[] = [];
  // Synchronously, so nothing is accepted meanwhile: connect until one attempt times out.
  for (let i = 0; i < 64; i++) {
    try {
      queued.push(addon.connectUnix(Buffer.from(path), 20));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ETIMEDOUT") break;
      throw error;
    }
  }
  return {
    target: `unix:${path}`,
    close: async () => {
      for (const fd of queued) addon.close(fd);
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

test("a connection that does not come up: UNAVAILABLE after connectTimeoutMs, DEADLINE_EXCEEDED when the call's time is shorter", async (t) => {
  const listener = await fullListener("full.sock");
  t.teardown(() => listener.close());
  const byConnect = new SyncCaller(listener.target, { connectTimeoutMs: 30 }, "native");
  const byDeadline = new SyncCaller(listener.target, { connectTimeoutMs: 10_000 }, "native");
  t.teardown(() => {
    byConnect.close();
    byDeadline.close();
  });
  const start = performance.now();
  const unavailable = throwsRpc(() => byConnect.call(echo, bison, { timeoutMs: 5000 }));
  const afterConnect = performance.now();
  const late = throwsRpc(() => byDeadline.call(echo, bison, { timeoutMs: 30 }));
  const afterDeadline = performance.now();
  t.is(unavailable.code, Code.UNAVAILABLE);
  t.is(unavailable.rawMessage, `call to ${echo.fullName}: cannot connect to ${listener.target}: no answer within 30 ms`);
  t.true(afterConnect - start >= 30);
  t.is(late.code, Code.DEADLINE_EXCEEDED);
  t.is(late.rawMessage, `call to ${echo.fullName} on ${listener.target} did not complete within 30 ms (while connecting)`);
  t.true(afterDeadline - afterConnect >= 30);
});
