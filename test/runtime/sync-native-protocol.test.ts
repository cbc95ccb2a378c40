// The native blocking-call engine (SyncCaller "native" → sync_socket addon) against a scripted
// server in a child process (test/helpers/sync-native-peer.ts) that splits replies, answers late,
// pings, sends GOAWAY, refuses, drops the connection, restarts. Each test uses callers of its own,
// so each has connections of its own on the shared server.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, RpcError } from "msf";
import { SyncCaller } from "../../runtime/client/sync-caller.js";
import type { ChannelOptions } from "../../runtime/client/channel-options.js";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { scriptService } from "../helpers/sync-native-service.js";
import { type NativePeer, startNativePeer } from "../helpers/sync-native-spawn.js";

const m = scriptService.methods;
let dir = "";
let peer: NativePeer | undefined;
let unixTarget = "";
let tcpTarget = "";
const callers: SyncCaller[] = [];

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "msf-sync-native-"));
  const [unixPeer, tcpPeer] = await Promise.all([
    startNativePeer(["raw", `unix:${join(dir, "script.sock")}`], 1),
    startNativePeer(["raw", "tcp://127.0.0.1:0"], 1),
  ]);
  peer = {
    addresses: [...unixPeer.addresses, ...tcpPeer.addresses],
    kill: async () => void (await Promise.all([unixPeer.kill(), tcpPeer.kill()])),
  };
  [unixTarget, tcpTarget] = peer.addresses as [string, string];
});

test.after.always(async () => {
  for (const caller of callers) caller.close();
  await peer?.kill();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function nativeCaller(target: string, options: ChannelOptions = {}): SyncCaller {
  const caller = new SyncCaller(target, { timeoutMs: 5000, ...options }, "native");
  callers.push(caller);
  return caller;
}

function request(name: string, password = ""): QueryFlightRequest {
  return { name, password, departureCity: "sz", destinationCity: "xz" };
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

interface Stats {
  connections: number;
  closed: number[];
  cancels: string[];
}

function stats(caller: SyncCaller): Stats {
  return JSON.parse(caller.call(m.stats, request("stats")).errmsg) as Stats;
}

/** The connection number the peer gave the connection that served `reply`. */
function connectionOf(reply: { flightsInfo: string }): number {
  const match = /^conn (\d+)$/.exec(reply.flightsInfo);
  if (match === null) throw new Error(`not an echo reply: ${reply.flightsInfo}`);
  return Number(match[1]);
}

test("a reply split across reads (the header cut in two) arrives whole, over unix and tcp", (t) => {
  for (const target of [unixTarget, tcpTarget]) {
    const caller = nativeCaller(target);
    for (let i = 0; i < 3; i++) {
      const reply = caller.call(m.split, request(`split-${i}`));
      t.is(reply.errmsg, `split-${i}`, target);
    }
  }
});

test("a reply larger than the read buffer is assembled; one above maxBodyBytes loses the connection", (t) => {
  const caller = nativeCaller(unixTarget);
  const reply = caller.call(m.big, request("big", "300000"));
  t.is(reply.flightsInfo.length, 300_000);
  t.true(/^x+$/.test(reply.flightsInfo));

  const small = nativeCaller(unixTarget, { maxBodyBytes: 1000 });
  const first = connectionOf(small.call(m.echo, request("fits")));
  const { error } = throwsRpc(() => small.call(m.big, request("too big", "5000")));
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.message, /lost \(\[INTERNAL\] protocol error .*exceeds the limit of 1000 bytes\)/);
  t.true(connectionOf(small.call(m.echo, request("again"))) > first, "a new connection after the violation");
});

test("a reply that arrives after its call timed out is discarded, and the call was cancelled", (t) => {
  const caller = nativeCaller(unixTarget);
  const connection = connectionOf(caller.call(m.echo, request("warm-up")));
  // The peer holds the reply to "late" and writes it right before the next reply, in the same write.
  const late = throwsRpc(() => caller.call(m.late, request("late"), { timeoutMs: 100 }));
  t.is(late.error.code, Code.DEADLINE_EXCEEDED);
  t.true(late.elapsedMs >= 100, `threw after ${late.elapsedMs} ms`);
  t.regex(late.error.message, /did not complete within 100 ms/);
  const next = caller.call(m.echo, request("next"));
  t.is(next.errmsg, "next");
  t.is(connectionOf(next), connection, "the connection was kept");
  const cancels = stats(caller).cancels.filter((entry) => entry.startsWith(`${connection}:`));
  t.is(cancels.length, 1, `cancels: ${cancels.join(", ")}`);
});

test("a PING that arrives during a call is answered with a PONG carrying its body", (t) => {
  const caller = nativeCaller(tcpTarget);
  t.is(caller.call(m.ping, request("hello")).errmsg, "pong hello");
  t.is(caller.call(m.ping, request("again")).errmsg, "pong again");
});

test("GOAWAY during a call: the call completes, its connection is closed after it, the next call opens a new one", async (t) => {
  const caller = nativeCaller(unixTarget);
  const first = connectionOf(caller.call(m.goaway, request("goaway")));
  const second = connectionOf(caller.call(m.echo, request("after")));
  t.not(second, first);
  // The peer sees the close of the first connection (its event loop may take a moment).
  const watcher = nativeCaller(unixTarget);
  let closed = false;
  for (let i = 0; i < 50 && !closed; i++) {
    closed = stats(watcher).closed.includes(first);
    if (!closed) await sleep(10);
  }
  t.true(closed, `connection ${first} was closed by the client`);
});

test("a call refused unstarted (GOAWAY + REFUSED) is sent once more on a new connection, and only once", (t) => {
  const caller = nativeCaller(tcpTarget);
  const before = connectionOf(caller.call(m.echo, request("before")));
  const resent = caller.call(m.refuse, request("refused once", "once"));
  t.is(resent.errmsg, "refused once");
  t.true(connectionOf(resent) > before);

  const { error } = throwsRpc(() => caller.call(m.refuse, request("refused always", "always")));
  t.is(error.code, Code.UNAVAILABLE);
  t.is(error.rawMessage, "the server is draining");
  t.is(caller.call(m.echo, request("still fine")).errmsg, "still fine");
});

test("a connection the server drops fails the call UNAVAILABLE; the next call reconnects", (t) => {
  const caller = nativeCaller(unixTarget);
  const first = connectionOf(caller.call(m.echo, request("first")));
  const { error } = throwsRpc(() => caller.call(m.drop, request("drop")));
  t.is(error.code, Code.UNAVAILABLE);
  t.is(error.rawMessage, `call to ${m.drop.fullName}: connection to ${unixTarget} lost (the server closed the connection)`);
  t.true(connectionOf(caller.call(m.echo, request("second"))) > first);
});

test("bytes that are no frame fail the call UNAVAILABLE (protocol error); the next call reconnects", (t) => {
  const caller = nativeCaller(tcpTarget);
  const { error } = throwsRpc(() => caller.call(m.garbage, request("garbage")));
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.message, /lost \(\[INTERNAL\] protocol error at byte 0 of the connection stream: bad magic 0x2121/);
  t.is(caller.call(m.echo, request("recovered")).errmsg, "recovered");
});

test("error replies keep their code and message; the connection is kept", (t) => {
  const caller = nativeCaller(unixTarget);
  const connection = connectionOf(caller.call(m.echo, request("first")));
  const { error } = throwsRpc(() => caller.call(m.fail, request("not yours", String(Code.PERMISSION_DENIED))));
  t.is(error.code, Code.PERMISSION_DENIED);
  t.is(error.rawMessage, "not yours");
  t.is(connectionOf(caller.call(m.echo, request("second"))), connection);
});

test("a server restarted between two calls costs no failed call; one that is down is UNAVAILABLE until it is back", async (t) => {
  const restartDir = mkdtempSync(join(tmpdir(), "msf-sync-restart-"));
  let server: NativePeer | undefined;
  t.teardown(async () => {
    await server?.kill();
    rmSync(restartDir, { recursive: true, force: true });
  });
  for (const listen of [`unix:${join(restartDir, "restart.sock")}`, "tcp://127.0.0.1:0"]) {
    server = await startNativePeer(["raw", listen], 1);
    const target = server.addresses[0]!;
    const caller = nativeCaller(target);
    t.is(caller.call(m.echo, request("before")).errmsg, "before");

    await server.kill();
    server = await startNativePeer(["raw", target], 1);
    const after = caller.call(m.echo, request("after restart"));
    t.is(after.errmsg, "after restart", target);
    t.is(connectionOf(after), 1, "the first connection of the new server");

    await server.kill();
    server = undefined;
    // The rest is the same for both transports: once is enough (each start costs ~1 s).
    if (!target.startsWith("unix:")) continue;
    const down = throwsRpc(() => caller.call(m.echo, request("down")));
    t.is(down.error.code, Code.UNAVAILABLE, target);
    t.regex(down.error.rawMessage, new RegExp(`^call to ${m.echo.fullName}: cannot connect to ${escape(target)}: ECONNREFUSED`));
    server = await startNativePeer(["raw", target], 1);
    t.is(caller.call(m.echo, request("back")).errmsg, "back", target);
    await server.kill();
    server = undefined;
  }
});

test("calls without a timeout wait for their reply; close() ends the connection, later calls are UNAVAILABLE", (t) => {
  const caller = new SyncCaller(unixTarget, {}, "native");
  callers.push(caller);
  t.is(caller.call(m.slow, request("patient", "150")).errmsg, "patient");
  caller.close();
  const { error } = throwsRpc(() => caller.call(m.echo, request("closed")));
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.message, /is closed/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
