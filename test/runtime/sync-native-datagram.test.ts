// The native engine of blocking calls over udp and netlink (runtime/client/sync-native-datagram.ts:
// the datagram layer driven by the calling thread while it waits). Servers run in other processes
// (a blocking call blocks this process's event loop): test/helpers/datagram-server-main.ts (the
// flight service, counting handler runs) and the open server of test/helpers/sync-native-peer.ts
// auth (echo and slow). Calls are forced onto the native engine; where the async path of the same
// channel can produce the same failure, both must word it the same.
import test, { type ExecutionContext } from "ava";
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { type Channel, type ChannelOptions, Code, createChannel, RpcError } from "msf";
import { netlinkTransport } from "../../runtime/transport/netlink.js";
import { udpTransport } from "../../runtime/transport/udp.js";
import { CONTROL_KIND, ControlType } from "../../runtime/transport/datagram-frame.js";
import { spawnScript } from "../helpers/child.js";
import { RawDatagramPeer } from "../helpers/datagram-raw-peer.js";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { queryFlightMethod } from "../helpers/flight-service.js";
import { scriptService } from "../helpers/sync-native-service.js";
import { startNativePeer } from "../helpers/sync-native-spawn.js";

process.env.MSF_SYNC_IMPL = "native";

const { echo, slow } = scriptService.methods;

function flight(name: string, destinationCity = "b"): QueryFlightRequest {
  return { name, password: "", departureCity: "a", destinationCity };
}

function channel(t: ExecutionContext, target: string, options: ChannelOptions = {}): Channel {
  const created = createChannel(target, { timeoutMs: 5000, ...options });
  t.teardown(() => created.close());
  return created;
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

async function rejectsRpc(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected an RpcError, the call resolved");
}

/** Starts the flight server of datagram-server-main.ts on `listen`; its address (without the query). */
async function flightServer(t: ExecutionContext, listen: string): Promise<string> {
  const child = spawnScript(t, "test/helpers/datagram-server-main.ts", [listen]);
  const address = (await child.line(/^listening (\S+)$/))[1]!;
  await child.line(/^ready$/);
  return address;
}

const kinds = [
  ["udp", "udp://127.0.0.1:0", udpTransport.stats],
  ["netlink", "netlink://0", netlinkTransport.stats],
] as const;

for (const [label, listen, stats] of kinds) {
  // Serial: it reads the process-wide counters of its transport.
  test.serial(`${label}: with datagrams lost and copied both ways, every blocking call succeeds and each handler runs once`, async (t) => {
    const address = await flightServer(t, `${listen}?dropEvery=3&duplicate=1`);
    const client = channel(t, `${address}?dropEvery=4`, { timeoutMs: 10_000 });
    const before = stats.snapshot();
    const names = Array.from({ length: 30 }, (_, i) => `sync-${i}`);
    for (const name of names) t.is(client.unarySync(queryFlightMethod, flight(name)).flightsInfo, `a->b for ${name}`);
    const runs = JSON.parse(client.unarySync(queryFlightMethod, flight("__runs__")).flightsInfo) as Record<string, number>;
    t.deepEqual(runs, Object.fromEntries(names.map((name) => [name, 1])), "each ran once, none was lost");
    const after = stats.snapshot();
    t.true(after.faultDropped > before.faultDropped, "the client dropped some of its datagrams");
    t.true(after.retransmitted > before.retransmitted, "and sent them again while the caller waited");
    t.true(after.duplicates > before.duplicates, "the server's copies of replies were recognised");
  });

  test(`${label}: a call past its deadline is DEADLINE_EXCEEDED, not before; the connection carries the next call`, async (t) => {
    const peer = await startNativePeer(["auth", listen, listen], 2);
    t.teardown(() => peer.kill());
    const open = channel(t, peer.addresses[1]!);
    t.is(open.unarySync(echo, flight("first")).errmsg, "first");
    const started = performance.now();
    const error = throwsRpc(() => open.unarySync(slow, { ...flight("slow"), password: "400" }, { timeoutMs: 100 }));
    const waited = performance.now() - started;
    t.is(error.code, Code.DEADLINE_EXCEEDED);
    t.is(error.rawMessage, `call to ${slow.fullName} on ${peer.addresses[1]} did not complete within 100 ms`);
    t.true(waited >= 100 && waited < 1000, `waited ${waited} ms`);
    // The late reply arrives during the next call and is dropped: each call gets its own reply.
    t.is(open.unarySync(slow, { ...flight("next"), password: "400" }).errmsg, "next");
    t.is(open.unarySync(echo, flight("last")).errmsg, "last");
  });

  test(`${label}: a frame larger than a datagram is RESOURCE_EXHAUSTED, as for an async call; the channel goes on`, async (t) => {
    const address = await flightServer(t, listen);
    // maxDatagram 1072: at most 1024 body bytes per datagram this side sends.
    const small = channel(t, `${address}?maxDatagram=1072`);
    const big = flight("x".repeat(2000));
    const blocking = throwsRpc(() => small.unarySync(queryFlightMethod, big));
    const async = await rejectsRpc(small.unary(queryFlightMethod, big));
    t.is(blocking.code, Code.RESOURCE_EXHAUSTED);
    t.regex(blocking.rawMessage, new RegExp(`request of \\d+ bytes does not fit in one ${label} datagram to ${address.replace(/[.[\]]/g, "\\$&")}: at most 1024 body bytes`));
    t.is(async.code, blocking.code);
    t.is(async.rawMessage, blocking.rawMessage);
    t.is(small.unarySync(queryFlightMethod, flight("fits")).flightsInfo, "a->b for fits");

    const plain = channel(t, address);
    const reply = throwsRpc(() => plain.unarySync(queryFlightMethod, flight("__big__", "70000")));
    t.is(reply.code, Code.RESOURCE_EXHAUSTED);
    t.regex(reply.rawMessage, /reply of \d+ bytes does not fit in one/);
  });
}

test("connecting: nobody there is UNAVAILABLE at once; a peer that never accepts is UNAVAILABLE after connectTimeoutMs, DEADLINE_EXCEEDED within a shorter call", async (t) => {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const freePort = probe.address().port;
  await new Promise<void>((resolve) => probe.close(resolve));
  const refused = throwsRpc(() => channel(t, `udp://127.0.0.1:${freePort}`).unarySync(queryFlightMethod, flight("x")));
  t.is(refused.code, Code.UNAVAILABLE);
  t.is(refused.rawMessage, `call to ${queryFlightMethod.fullName}: cannot connect to udp://127.0.0.1:${freePort}: ECONNREFUSED (no socket is bound to that port)`);

  const nobody = throwsRpc(() => channel(t, "netlink://4000000001").unarySync(queryFlightMethod, flight("x")));
  t.is(nobody.code, Code.UNAVAILABLE);
  t.is(nobody.rawMessage, `call to ${queryFlightMethod.fullName}: cannot connect to netlink://4000000001: ECONNREFUSED (no netlink socket is bound to port id 4000000001)`);

  // A socket of this process: the kernel queues what is sent to it; nothing answers while the call blocks.
  const deaf = await RawDatagramPeer.open(t);
  const unanswered = channel(t, deaf.uri, { connectTimeoutMs: 300 });
  const byConnect = throwsRpc(() => unanswered.unarySync(queryFlightMethod, flight("x")));
  t.is(byConnect.code, Code.UNAVAILABLE);
  t.is(byConnect.rawMessage, `call to ${queryFlightMethod.fullName}: cannot connect to ${deaf.uri}: no answer within 300 ms`);
  const byCall = throwsRpc(() => unanswered.unarySync(queryFlightMethod, flight("x"), { timeoutMs: 100 }));
  t.is(byCall.code, Code.DEADLINE_EXCEEDED);
  t.regex(byCall.rawMessage, /did not complete within 100 ms \(while connecting\)$/);
  await sleep(50);
  const connects = deaf.received.filter((entry) => entry.kind === CONTROL_KIND && entry.method === ControlType.CONNECT);
  // Once per call, and again while the caller waited: nominally at 0, 20, 60 and 140 ms within
  // 300 ms and at 0, 20 and 60 ms within 100 ms (fewer when the loaded machine delays the wake-ups).
  t.true(connects.length >= 3, `CONNECT sent ${connects.length} times while the callers were blocked`);
});

test("udp: a server restarted on the same port answers RESET: UNAVAILABLE, as for an async call; the next call reconnects", async (t) => {
  const first = spawnScript(t, "test/helpers/datagram-server-main.ts", ["udp://127.0.0.1:0"]);
  const address = (await first.line(/^listening (\S+)$/))[1]!;
  await first.line(/^ready$/);
  const client = channel(t, address);
  const firstPid = client.unarySync(queryFlightMethod, flight("one")).errmsg;
  await first.kill();
  const second = spawnScript(t, "test/helpers/datagram-server-main.ts", [address]);
  await second.line(/^ready$/);
  const reset = throwsRpc(() => client.unarySync(queryFlightMethod, flight("two")));
  t.is(reset.code, Code.UNAVAILABLE);
  t.regex(reset.rawMessage, /reset the connection: the server has no connection from this client/);
  const again = client.unarySync(queryFlightMethod, flight("three"));
  t.regex(again.errmsg, /^pid \d+$/);
  t.not(again.errmsg, firstPid, "answered by the new server");
});
