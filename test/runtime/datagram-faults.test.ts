// Loss and duplication injected in the datagram layer (the dropEvery and duplicate knobs of the
// URI, applied to what each side sends): calls still succeed, and every handler runs exactly once
// per call — retransmitted requests are answered from the server's reply cache, copies of a
// request still running are dropped.
import test from "ava";
import { createChannel, createServer, type CallContext } from "msf";
import { netlinkTransport } from "../../runtime/transport/netlink.js";
import { udpTransport } from "../../runtime/transport/udp.js";
import type { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { TestService, request } from "../helpers/runtime-fixtures.js";

const { echo, wait } = TestService.methods;

/** A server whose handlers count their runs per request name; echo answers at once, wait after departureCity ms. */
async function countingServer(t: import("ava").ExecutionContext, listen: string) {
  const runs = new Map<string, number>();
  const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
  const server = createServer({ listen: [listen] });
  server.addService(TestService, {
    echo(req: QueryFlightRequest): QueryFlightResponse {
      count(req.name);
      return { errcode: 0, errmsg: "", flightsInfo: req.name };
    },
    fail: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    crash: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    wait(req: QueryFlightRequest, context: CallContext): Promise<QueryFlightResponse> {
      count(req.name);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ errcode: 0, errmsg: "", flightsInfo: req.name }), Number(req.departureCity));
        context.signal.addEventListener("abort", () => clearTimeout(timer));
      });
    },
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { server, runs };
}

const datagramTransports = [
  ["udp", "udp://127.0.0.1:0", udpTransport.stats],
  ["netlink", "netlink://0", netlinkTransport.stats],
] as const;

for (const [label, listen, stats] of datagramTransports) {
  test(`${label}: with datagrams lost both ways, every call succeeds and each handler runs once`, async (t) => {
    const before = stats.snapshot();
    const { server, runs } = await countingServer(t, `${listen}?dropEvery=4`);
    const channel = createChannel(`${server.addresses[0]}?dropEvery=5`, { timeoutMs: 10_000 });
    t.teardown(() => channel.close());
    const names: string[] = [];
    // Waves of 32 concurrent calls, some of which run for a while (copies arrive while they run).
    for (let wave = 0; wave < 3; wave++) {
      const calls = Array.from({ length: 32 }, (_, i) => {
        const name = `w${wave}-${i}`;
        names.push(name);
        return i % 4 === 0
          ? channel.unary(wait, request(name, { departureCity: "60" }))
          : channel.unary(echo, request(name));
      });
      const replies = await Promise.all(calls);
      t.deepEqual(
        replies.map((reply) => reply.flightsInfo),
        names.slice(-32),
      );
    }
    t.is(runs.size, names.length);
    t.true([...runs.values()].every((count) => count === 1), "no handler ran twice");
    const after = stats.snapshot();
    t.true(after.faultDropped > before.faultDropped, "datagrams were dropped");
    t.true(after.retransmitted > before.retransmitted, "requests were sent again");
    t.true(after.duplicates > before.duplicates, "the server saw copies (answered from its cache or dropped while running)");
  });

  test(`${label}: with every datagram sent twice both ways, each handler runs once and copies are counted`, async (t) => {
    const before = stats.snapshot();
    const { server, runs } = await countingServer(t, `${listen}?duplicate=1`);
    const channel = createChannel(`${server.addresses[0]}?duplicate=true`, { timeoutMs: 10_000 });
    t.teardown(() => channel.close());
    const names = Array.from({ length: 100 }, (_, i) => `dup-${i}`);
    const replies = await Promise.all(
      names.map((name, i) => (i % 10 === 0 ? channel.unary(wait, request(name, { departureCity: "30" })) : channel.unary(echo, request(name)))),
    );
    t.deepEqual(
      replies.map((reply) => reply.flightsInfo),
      names,
    );
    t.is(runs.size, names.length);
    t.true([...runs.values()].every((count) => count === 1), "no handler ran twice");
    // Each request and each reply arrived twice: at least one copy of each was recognised.
    t.true(stats.duplicates - before.duplicates >= 2 * names.length);
  });
}

test("dropEvery and duplicate are validated where the address is parsed", (t) => {
  for (const [uri, reason] of [
    ["udp://127.0.0.1:7000?dropEvery=1", /parameter dropEvery must be an integer from 2 to 2147483647, got "1"/],
    ["netlink://42?duplicate=yes", /parameter duplicate must be 1, true, 0 or false, got "yes"/],
    ["udp://127.0.0.1:7000?loss=3", /unknown parameter "loss" \(known: maxDatagram, dropEvery, duplicate\)/],
    ["udp://127.0.0.1:7000?maxDatagram=70000", /parameter maxDatagram must be an integer from 1072 to 65507, got "70000"/],
  ] as const) {
    const error = t.throws(() => createChannel(uri));
    t.regex(error!.message, /^\[INVALID_ARGUMENT\] address ".*" is malformed/);
    t.regex(error!.message, reason);
  }
});
