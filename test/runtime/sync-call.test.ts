// Blocking calls (Channel.unarySync → SyncCaller) against a real server in a child process: a
// blocking call blocks this process's event loop, so the server cannot live here.
//
// The suite runs once per engine: as itself it tests the worker engine; sync-native-call.test.ts
// sets MSF_SYNC_IMPL=native and imports this file to run it against the native engine. The
// variable is set for the whole process (and the child processes it starts), so every channel
// and SyncCaller created here uses the engine under test.
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline";
import { type Channel, Code, type CodecName, createChannel, RpcError } from "msf";
import { SyncCaller } from "../../runtime/client/sync-caller.js";
import type { SyncImpl } from "../../runtime/client/sync-native-target.js";
import { bison, flightMethod } from "../helpers/flight-service.js";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { syncService } from "../helpers/sync-service.js";

const impl: SyncImpl = process.env.MSF_SYNC_IMPL === "native" ? "native" : "worker";
process.env.MSF_SYNC_IMPL = impl;

const repoRoot = resolve(import.meta.dirname, "../..");
const peerScript = resolve(repoRoot, "test/helpers/sync-peer.ts");
const { echo, fail, slow, meta } = syncService.methods;

interface Peer {
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Runs sync-peer.ts in a child process; resolves once `ready(lines)` holds (or rejects after limitMs, killing it). */
async function startPeer(args: string[], ready: (lines: string[]) => boolean, limitMs = 20_000): Promise<Peer> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=msf-source", peerScript, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const lines: string[] = [];
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`sync-peer ${args.join(" ")} not ready within ${limitMs} ms; output: ${lines.join(" | ")}`));
    }, limitMs);
    const check = () => {
      if (!ready(lines)) return false;
      clearTimeout(timer);
      resolvePromise();
      return true;
    };
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      check();
    });
    void exited.then((code) => {
      if (check()) return;
      clearTimeout(timer);
      reject(new Error(`sync-peer ${args.join(" ")} exited (code ${code}); output: ${lines.join(" | ")}`));
    });
  });
  return { lines, exited, kill };
}

let dir = "";
let server: Peer | undefined;
let unixTarget = "";
let tcpTarget = "";
/** Shared by the tests (as an application shares a channel), so a stale reply left by one meets the others. */
let unixChannel: Channel;
let tcpChannel: Channel;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "msf-sync-"));
  server = await startPeer(["server", `unix:${join(dir, "sync.sock")}`, "tcp://127.0.0.1:0"], (lines) => lines.length >= 2);
  [unixTarget, tcpTarget] = server.lines.map((line) => /^listening (\S+)$/.exec(line)![1]!);
  unixChannel = createChannel(unixTarget, { timeoutMs: 5000 });
  tcpChannel = createChannel(tcpTarget, { timeoutMs: 5000 });
});

test.after.always(async () => {
  await unixChannel?.close();
  await tcpChannel?.close();
  await server?.kill();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function request(name: string, password = "", departureCity = "sz", destinationCity = "xz"): QueryFlightRequest {
  return { name, password, departureCity, destinationCity };
}

/** Runs `fn`, which must throw an RpcError; returns it with the ms it took. */
function throwsRpc(fn: () => unknown): { error: RpcError; elapsedMs: number } {
  const start = performance.now();
  try {
    fn();
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    return { error, elapsedMs: performance.now() - start };
  }
  throw new Error("expected an RpcError, the call returned");
}

test(`the ${impl} engine serves the blocking calls`, (t) => {
  const caller = new SyncCaller(unixTarget, {});
  t.teardown(() => caller.close());
  t.is(caller.impl, impl);
  t.is(caller.call(echo, request("engine")).errmsg, "engine");
});

test("blocking calls succeed over unix in each codec, and over tcp", async (t) => {
  const cases: [Channel, CodecName][] = [
    [unixChannel, "protobuf"],
    [createChannel(unixTarget, { codec: "json", timeoutMs: 5000 }), "json"],
    [createChannel(unixTarget, { codec: "msgpack", timeoutMs: 5000 }), "msgpack"],
    [tcpChannel, "protobuf"],
  ];
  for (const [channel, codec] of cases) {
    for (let i = 0; i < 3; i++) {
      const reply = channel.unarySync(echo, request(`${codec}-${i}`, "", "sz", `xz${i}`));
      t.deepEqual(reply, { errcode: 0, errmsg: `${codec}-${i}`, flightsInfo: `sz->xz${i}` }, `${codec} over ${channel.target}`);
    }
  }
  await cases[1]![0].close();
  await cases[2]![0].close();
});

test("metadata reaches the handler", async (t) => {
  const channel = unixChannel;
  t.is(channel.unarySync(meta, bison, { metadata: { "x-b": "2", "x-a": "1" } }).errmsg, "x-a=1,x-b=2");
  t.is(channel.unarySync(meta, bison, { metadata: new Map([["trace-id", "abc"]]) }).errmsg, "trace-id=abc");
  t.is(channel.unarySync(meta, bison).errmsg, "");
  const bad = throwsRpc(() => channel.unarySync(meta, bison, { metadata: { "Upper Case": "x" } }));
  t.is(bad.error.code, Code.INVALID_ARGUMENT);
  t.regex(bad.error.message, /Upper Case/);
  const uncloneable = { "x-fn": (() => "x") as unknown as string };
  t.is(throwsRpc(() => channel.unarySync(meta, bison, { metadata: uncloneable })).error.code, Code.INVALID_ARGUMENT);
  t.is(channel.unarySync(meta, bison, { metadata: { "x-ok": "yes" } }).errmsg, "x-ok=yes");
});

test("a handler's error code and message reach the caller", async (t) => {
  const channel = tcpChannel;
  for (const code of [Code.PERMISSION_DENIED, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED]) {
    const { error } = throwsRpc(() => channel.unarySync(fail, request(`refused with ${code}`, String(code))));
    t.is(error.code, code);
    t.is(error.rawMessage, `refused with ${code}`);
  }
});

test("an unknown method is UNIMPLEMENTED", async (t) => {
  const channel = tcpChannel;
  const { error } = throwsRpc(() => channel.unarySync(flightMethod("synctest.sync_service.nope"), bison));
  t.is(error.code, Code.UNIMPLEMENTED);
  t.regex(error.message, /synctest\.sync_service\.nope/);
});

test("a timeout throws DEADLINE_EXCEEDED after timeoutMs, and later calls get their own replies", async (t) => {
  const channel = unixChannel;
  t.is(channel.unarySync(echo, request("warm-up"), { timeoutMs: 10_000 }).errmsg, "warm-up");

  const timeoutMs = 150;
  const slowMs = 600;
  const late = throwsRpc(() => channel.unarySync(slow, request("late", String(slowMs)), { timeoutMs }));
  t.is(late.error.code, Code.DEADLINE_EXCEEDED);
  t.true(late.elapsedMs >= timeoutMs, `threw after ${late.elapsedMs} ms`);
  t.true(late.elapsedMs < slowMs, `returned before the reply, after ${late.elapsedMs} ms`);

  t.deepEqual(channel.unarySync(echo, request("next", "", "a", "b"), { timeoutMs: 5000 }), {
    errcode: 0,
    errmsg: "next",
    flightsInfo: "a->b",
  });
  // By now the slow call's deadline has passed everywhere; whatever came back for it must not be taken for this one.
  await sleep(slowMs);
  t.is(channel.unarySync(echo, request("after"), { timeoutMs: 5000 }).errmsg, "after");

  const zero = throwsRpc(() => channel.unarySync(echo, bison, { timeoutMs: 0 }));
  t.is(zero.error.code, Code.DEADLINE_EXCEEDED);
});

test("the channel's default timeout applies and a per-call timeout overrides it", async (t) => {
  const channel = createChannel(tcpTarget, { timeoutMs: 100 });
  t.teardown(() => channel.close());
  const late = throwsRpc(() => channel.unarySync(slow, request("slow", "400")));
  t.is(late.error.code, Code.DEADLINE_EXCEEDED);
  t.true(late.elapsedMs >= 100, `threw after ${late.elapsedMs} ms`);
  t.is(channel.unarySync(slow, request("patient", "200"), { timeoutMs: 5000 }).errmsg, "patient");
});

test("a refused connection is UNAVAILABLE, over unix and tcp", async (t) => {
  const probe = createNetServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((done) => probe.close(() => done()));
  for (const target of [`unix:${join(dir, "nobody.sock")}`, `tcp://127.0.0.1:${port}`]) {
    const channel = createChannel(target);
    try {
      // A generous bound: the first blocking call also starts the worker, slow on a loaded machine.
      const { error } = throwsRpc(() => channel.unarySync(echo, bison, { timeoutMs: 30_000 }));
      t.is(error.code, Code.UNAVAILABLE, `${target}: ${error.message}`);
    } finally {
      await channel.close();
    }
  }
});

test("bad options are INVALID_ARGUMENT; calls after close are UNAVAILABLE", async (t) => {
  const caller = new SyncCaller(unixTarget, { timeoutMs: 5000 });
  t.is(throwsRpc(() => caller.call(echo, bison, { timeoutMs: -1 })).error.code, Code.INVALID_ARGUMENT);
  t.is(throwsRpc(() => caller.call(echo, null as unknown as QueryFlightRequest)).error.code, Code.INVALID_ARGUMENT);
  t.is(caller.call(echo, bison).errmsg, "bison");
  caller.close();
  caller.close();
  t.is(throwsRpc(() => caller.call(echo, bison)).error.code, Code.UNAVAILABLE);
  t.throws(() => new SyncCaller(unixTarget, { timeoutMs: Number.NaN }), { instanceOf: RpcError, message: /timeoutMs/ });

  const channel = createChannel(unixTarget, { timeoutMs: 5000 });
  await channel.close();
  t.is(throwsRpc(() => channel.unarySync(echo, bison)).error.code, Code.UNAVAILABLE);
});

test("a process ends by itself after blocking calls, without close()", async (t) => {
  const client = await startPeer(["client", unixTarget], (lines) => lines.length >= 1);
  t.teardown(() => client.kill());
  t.deepEqual(client.lines, ["reply bison"]);
  const limit = new AbortController();
  const exited = await Promise.race([
    client.exited,
    sleep(15_000, "still running after 15 s", { signal: limit.signal }),
  ]);
  limit.abort();
  t.is(exited, 0);
});

// The worker engine's own behaviour: its start-up, and its failure to start.
if (impl === "worker") {
  test("the first call's timeout covers the worker's start; the next call uses the started worker", async (t) => {
    const caller = new SyncCaller(unixTarget, {});
    t.teardown(() => caller.close());
    // Starting a thread and loading the runtime in it takes far longer than 1 ms.
    const first = throwsRpc(() => caller.call(echo, request("first"), { timeoutMs: 1 }));
    t.is(first.error.code, Code.DEADLINE_EXCEEDED);
    t.regex(first.error.message, /worker was still starting/);
    t.true(first.elapsedMs >= 1);
    t.is(caller.call(echo, request("second"), { timeoutMs: 10_000 }).errmsg, "second");
  });

  test("a blocking call without a timeout fails UNAVAILABLE when the worker cannot start", async (t) => {
    const client = await startPeer(["broken-worker", unixTarget], (lines) => lines.length >= 1);
    t.teardown(() => client.kill());
    t.regex(client.lines[0]!, new RegExp(`^error ${Code.UNAVAILABLE} .*could not create its channel.*connectTimeoutMs`));
    t.is(await client.exited, 0);
  });
}
