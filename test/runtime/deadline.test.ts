import test from "ava";
import { Code, RpcError, createChannel, createServer, type CallContext } from "msf";
import { FrameKind } from "msf/internal";
import { QueryFlightRequest } from "../helpers/flight-messages.js";
import { testService } from "../helpers/flight-service.js";
import { errorText, rawPeer, requestFrame } from "../helpers/raw-peer.js";
import { TestService, request, rpcError, startTestServer, waitFor, type Recorder } from "../helpers/runtime-fixtures.js";

const wait = TestService.methods.wait;
const echo = TestService.methods.echo;

function recorder(): Recorder {
  return { aborts: new Map(), ran: [] };
}

test("a call that outlives its timeout fails DEADLINE_EXCEEDED, and the handler's signal is aborted", async (t) => {
  const seen = recorder();
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, seen);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  // Connected first, so the 100 ms are not spent connecting (the request must reach the handler).
  await channel.unary(echo, request("warm-up"));
  const started = Date.now();
  const error = await rpcError(t, channel.unary(wait, request("slow", { departureCity: "5000" }), { timeoutMs: 100 }));
  t.is(error.code, Code.DEADLINE_EXCEEDED);
  t.regex(error.message, /call to test\.svc\.wait on tcp:\/\/127\.0\.0\.1:\d+ did not complete within 100 ms/);
  t.true(Date.now() - started >= 95);
  await waitFor(() => seen.aborts.has("slow"), 2000, "the handler's abort");
  // Whichever came first: the server's own deadline, or the client's CANCEL.
  const reason = seen.aborts.get("slow") as RpcError;
  t.true(reason instanceof RpcError);
  t.true([Code.DEADLINE_EXCEEDED, Code.CANCELLED].includes(reason.code));
  // The channel keeps working.
  t.is((await channel.unary(echo, request("next"), { timeoutMs: 2000 })).flightsInfo, "next");
});

test("the channel's default timeout applies; a call's timeoutMs overrides it", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 80 });
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(wait, request("a", { departureCity: "3000" })));
  t.is(error.code, Code.DEADLINE_EXCEEDED);
  t.regex(error.message, /within 80 ms/);
  const reply = await channel.unary(wait, request("b", { departureCity: "150" }), { timeoutMs: 3000 });
  t.is(reply.flightsInfo, "waited b");
  const zero = await rpcError(t, channel.unary(echo, request("c"), { timeoutMs: 0 }));
  t.is(zero.code, Code.DEADLINE_EXCEEDED);
});

test("aborting the caller's signal fails the call CANCELLED and aborts the handler's signal", async (t) => {
  const seen = recorder();
  const server = await startTestServer(t, ["unix:@msf-test-cancel-" + process.pid], {}, seen);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const controller = new AbortController();
  const pending = channel.unary(wait, request("cancelled", { departureCity: "5000" }), { signal: controller.signal });
  await waitFor(() => seen.ran.includes("cancelled"), 2000, "the handler to start");
  controller.abort(new Error("user pressed stop"));
  const error = await rpcError(t, pending);
  t.is(error.code, Code.CANCELLED);
  t.regex(error.message, /cancelled by the caller/);
  t.is((error.cause as Error).message, "user pressed stop");
  await waitFor(() => seen.aborts.has("cancelled"), 2000, "the handler's abort");
  t.is((seen.aborts.get("cancelled") as RpcError).code, Code.CANCELLED);
  // A signal already aborted: the call is not even sent.
  const early = await rpcError(t, channel.unary(echo, request("never"), { signal: AbortSignal.abort() }));
  t.is(early.code, Code.CANCELLED);
  t.is((await channel.unary(echo, request("after"))).flightsInfo, "after");
  t.false(seen.ran.includes("never"));
});

test("the handler sees the absolute deadline (Infinity without one)", async (t) => {
  const Svc = testService("test.deadline", ["show"] as const);
  const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
  server.addService(Svc, {
    show: (_request: QueryFlightRequest, context: CallContext) => ({ errcode: 0, errmsg: "", flightsInfo: String(context.deadline) }),
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const before = Date.now();
  const withDeadline = Number((await channel.unary(Svc.methods.show, request("x"), { timeoutMs: 10_000 })).flightsInfo);
  t.true(withDeadline >= before + 9_900 && withDeadline <= Date.now() + 10_000, `deadline ${withDeadline - before} ms ahead`);
  t.is((await channel.unary(Svc.methods.show, request("y"))).flightsInfo, "Infinity");
});

// Serial: its handler blocks this process's event loop, which must not disturb the timing of other tests.
test.serial("a request whose deadline passed while it waited behind a blocked event loop is not run", async (t) => {
  const ran: string[] = [];
  const Svc = testService("test.queue", ["block", "record"] as const);
  const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
  server.addService(Svc, {
    block: (flight: QueryFlightRequest) => {
      const until = Date.now() + Number(flight.departureCity);
      while (Date.now() < until) {
        // Busy: the event loop is blocked, as by a CPU-bound handler.
      }
      return { errcode: 0, errmsg: "", flightsInfo: "blocked" };
    },
    record: (flight: QueryFlightRequest) => {
      ran.push(flight.name);
      return { errcode: 0, errmsg: "", flightsInfo: "ran" };
    },
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  const peer = await rawPeer(server.addresses[0]!);
  t.teardown(() => peer.destroy());
  // Both requests in one write, so they are read together: the second waits behind the first.
  const blockBody = QueryFlightRequest.encode(request("b", { departureCity: "300" })).finish();
  const lateBody = QueryFlightRequest.encode(request("late")).finish();
  const both = Buffer.concat([requestFrame(1, Svc.methods.block.id, blockBody), requestFrame(2, Svc.methods.record.id, lateBody, 50)]);
  peer.write(both);
  const late = await peer.reply(2);
  t.is(late.header.kind, FrameKind.RESPONSE);
  t.is(late.header.status, Code.DEADLINE_EXCEEDED);
  t.regex(errorText(late), /deadline of test\.queue\.record passed before it could be dispatched/);
  t.is((await peer.reply(1)).header.status, Code.OK);
  t.deepEqual(ran, []);
  // The same request with time to spare runs.
  peer.write(requestFrame(3, Svc.methods.record.id, lateBody, 5000));
  t.is((await peer.reply(3)).header.status, Code.OK);
  t.deepEqual(ran, ["late"]);
});

test("beyond maxConcurrentCalls a call is RESOURCE_EXHAUSTED and the connection stays usable", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], { maxConcurrentCalls: 2 });
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const first = channel.unary(wait, request("1", { departureCity: "300" }));
  const second = channel.unary(wait, request("2", { departureCity: "300" }));
  const third = await rpcError(t, channel.unary(echo, request("3")));
  t.is(third.code, Code.RESOURCE_EXHAUSTED);
  t.regex(third.message, /limit of 2 concurrent calls/);
  t.is((await first).flightsInfo, "waited 1");
  t.is((await second).flightsInfo, "waited 2");
  t.is((await channel.unary(echo, request("4"))).flightsInfo, "4");
});
