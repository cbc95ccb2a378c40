// Blocking calls to a target of several endpoints: the worker thread's channel parses the joined
// target the same way and falls back like an async channel. The server runs in a child process
// (a blocking call blocks this process's event loop).
import test from "ava";
import { join } from "node:path";
import { Code, RpcError, createChannel } from "msf";
import { spawnScript } from "../helpers/child.js";
import { tempDir } from "../helpers/runtime-fixtures.js";
import { syncService } from "../helpers/sync-service.js";

const { echo } = syncService.methods;

function blockingError(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected an RpcError, the call returned");
}

/**
 * A channel's first blocking call creates its engine; MSF_SYNC_IMPL (sync-native-target.ts) picks
 * it, "auto" = the default choice. Set and restored around that first call, synchronously.
 */
function firstCall<T>(engine: string, fn: () => T): T {
  const saved = process.env.MSF_SYNC_IMPL;
  process.env.MSF_SYNC_IMPL = engine;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.MSF_SYNC_IMPL;
    else process.env.MSF_SYNC_IMPL = saved;
  }
}

for (const engine of ["worker", "auto"]) {
  test.serial(`blocking calls with a list (${engine} engine): the absent unix endpoint is skipped, tcp answers; all down is UNAVAILABLE naming both`, async (t) => {
    const dir = tempDir(t);
    const peer = spawnScript(t, "test/helpers/sync-peer.ts", ["server", "tcp://127.0.0.1:0"]);
    const tcp = (await peer.line(/^listening (\S+)$/))[1]!;
    const absent = `unix:${join(dir, "absent.sock")}`;
    for (const target of [[absent, tcp], `${absent}, ${tcp}`]) {
      const channel = createChannel(target, { timeoutMs: 10_000 });
      t.teardown(() => channel.close());
      for (let i = 0; i < 3; i++) {
        const request = { name: `sync-${i}`, password: "", departureCity: "sz", destinationCity: "xz" };
        const reply = i === 0 ? firstCall(engine, () => channel.unarySync(echo, request)) : channel.unarySync(echo, request);
        t.deepEqual(reply, { errcode: 0, errmsg: `sync-${i}`, flightsInfo: "sz->xz" }, String(target));
      }
    }
    await peer.kill();
    const down = createChannel([absent, tcp], { timeoutMs: 10_000 });
    t.teardown(() => down.close());
    const error = blockingError(() =>
      firstCall(engine, () => down.unarySync(echo, { name: "x", password: "", departureCity: "", destinationCity: "" })),
    );
    t.is(error.code, Code.UNAVAILABLE);
    t.regex(error.message, /none of the 2 endpoints of target ".*" could be reached: /);
    t.true(error.message.includes(`cannot connect to ${absent}: ENOENT`), error.message);
    t.true(error.message.includes(`cannot connect to ${tcp}: ECONNREFUSED`), error.message);
  });
}
