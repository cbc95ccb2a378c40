// Network faults on udp, injected by a proxy between a real client and a real server (loss,
// duplication and reordering, both ways, at once; test/runtime/datagram-faults.test.ts covers
// the transport's own dropEvery/duplicate knobs one at a time): every call gets its own reply,
// and each request runs its handler at most once (here exactly once: every call succeeds).
// MSF_NET_CALLS (default 300) sets the number of calls.
import test from "ava";
import { createChannel, createServer, type CallContext } from "msf";
import type { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { TestService, request } from "../helpers/runtime-fixtures.js";
import { startLossyProxy } from "./lossy-udp-proxy.js";

const { echo, wait } = TestService.methods;
const calls = Number(process.env.MSF_NET_CALLS ?? "300");

test(`udp through a proxy losing 10%, duplicating 10% and reordering datagrams: ${calls} calls, each answered with its own reply, each run once`, async (t) => {
  const runs = new Map<string, number>();
  const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
  const server = createServer({ listen: ["udp://127.0.0.1:0"] });
  server.addService(TestService, {
    echo(req: QueryFlightRequest): QueryFlightResponse {
      count(req.name);
      return { errcode: 0, errmsg: "", flightsInfo: req.name };
    },
    fail: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    crash: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    // Runs for a while: copies of its request arrive while it runs.
    wait(req: QueryFlightRequest, context: CallContext): Promise<QueryFlightResponse> {
      count(req.name);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ errcode: 0, errmsg: "", flightsInfo: req.name }), 40);
        context.signal.addEventListener("abort", () => clearTimeout(timer));
      });
    },
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  const port = Number(new URL(server.addresses[0]!).port);
  const proxy = await startLossyProxy(port, { loss: 0.1, duplicate: 0.1, maxDelayMs: 15, seed: Number(process.env.MSF_NET_SEED ?? "7") });
  t.teardown(() => proxy.close());
  const channel = createChannel(proxy.address, { timeoutMs: 20_000 });
  t.teardown(() => channel.close());

  const names = Array.from({ length: calls }, (_, index) => `net-${index}`);
  const replies: string[] = [];
  // Waves of 50 concurrent calls (bounded: calls / 50 waves).
  for (let start = 0; start < names.length; start += 50) {
    const wave = names.slice(start, start + 50);
    const answers = await Promise.all(
      wave.map((name, index) => (index % 5 === 0 ? channel.unary(wait, request(name)) : channel.unary(echo, request(name)))),
    );
    replies.push(...answers.map((answer) => answer.flightsInfo));
  }
  t.deepEqual(replies, names, "every reply matches its request");
  t.is(runs.size, names.length);
  const twice = [...runs].filter(([, times]) => times !== 1);
  t.deepEqual(twice.slice(0, 10), [], `no handler ran twice (${twice.length} did)`);
  const { forwarded, dropped, duplicated, reordered } = proxy.counters;
  t.log(`${calls} calls: ${forwarded} datagrams forwarded, ${dropped} dropped, ${duplicated} duplicated, ${reordered} delivered out of order`);
  t.true(dropped > 0 && duplicated > 0 && reordered > 0, "all three faults happened");
});
