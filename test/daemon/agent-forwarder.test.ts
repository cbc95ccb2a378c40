// The Forwarder against real servers on unix sockets: in-process servers, and a child process
// killed with SIGKILL while a handler runs.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { Code, RpcError, createServer, type Server } from "msf";
import type { ServedMethod } from "../../runtime/daemon/agent/agent-types.js";
import { Forwarder, type ForwarderOptions } from "../../runtime/daemon/agent/forwarder.js";
import { Registry, type RegistryOptions, type ServiceSettings } from "../../runtime/daemon/agent/registry.js";
import { spawnScript } from "../helpers/child.js";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { TestService, request, rpcError, tempDir, testHandlers, waitFor, type Recorder } from "../helpers/runtime-fixtures.js";
import { instanceInfo, servedMethod, servedService } from "./agent-fixtures.js";

const echo = servedMethod("test.svc.echo");
const fail = servedMethod("test.svc.fail");
const wait = servedMethod("test.svc.wait");
const served = [servedService("test.svc", [echo, fail, wait, servedMethod("test.svc.crash")])];

interface Instance {
  readonly index: number;
  readonly endpoint: string;
  readonly recorder: Recorder;
  readonly server: Server;
}

interface Setup {
  readonly registry: Registry;
  readonly forwarder: Forwarder;
  readonly dir: string;
}

function setup(
  t: ExecutionContext,
  settings?: ServiceSettings,
  options: { registry?: RegistryOptions; forwarder?: ForwarderOptions } = {},
): Setup {
  const registry = new Registry(options.registry);
  if (settings !== undefined) registry.configure("flight", settings);
  const forwarder = new Forwarder(registry, options.forwarder);
  t.teardown(() => forwarder.close());
  return { registry, forwarder, dir: tempDir(t) };
}

/** Starts instance `index` of "flight" in this process (wait answers at once when `quickWait`) and reports it up. */
async function startInstance(t: ExecutionContext, { registry, dir }: Setup, index: number, quickWait = false): Promise<Instance> {
  const recorder: Recorder = { aborts: new Map(), ran: [] };
  const endpoint = `unix:${join(dir, `flight.${index}.1.sock`)}`;
  const handlers = testHandlers(recorder);
  const server = createServer({ listen: [endpoint] });
  server.addService(TestService, {
    ...handlers,
    echo: (req, context) => ({ ...handlers.echo(req, context), errmsg: `instance ${index}` }),
    ...(quickWait && {
      wait: (req) => {
        recorder.ran.push(req.name);
        return { errcode: 0, errmsg: `instance ${index}`, flightsInfo: `quick ${req.name}` };
      },
    }),
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  registry.up(instanceInfo("flight", index, endpoint), served);
  return { index, endpoint, recorder, server };
}

function body(name: string, extra: Parameters<typeof request>[1] = {}): Uint8Array {
  return QueryFlightRequest.encode(request(name, extra)).finish();
}

function call(forwarder: Forwarder, method: ServedMethod, bytes: Uint8Array, options: { metadata?: Record<string, string>; timeoutMs?: number } = {}) {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  return forwarder
    .forward("flight", method, 0, bytes, new Map(Object.entries(options.metadata ?? {})), deadline)
    .then((reply) => QueryFlightResponse.decode(reply));
}

test("forwards the bytes round robin to the instances and returns their replies, in the caller's codec", async (t) => {
  const context = setup(t);
  const instances = [await startInstance(t, context, 0), await startInstance(t, context, 1)];
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push(await call(context.forwarder, echo, body(`call-${i}`)));
  t.deepEqual(
    replies.map((reply) => `${reply.flightsInfo} <- ${reply.errmsg}`),
    ["call-0 <- instance 0", "call-1 <- instance 1", "call-2 <- instance 0", "call-3 <- instance 1", "call-4 <- instance 0", "call-5 <- instance 1"],
  );
  t.deepEqual(instances[0]!.recorder.ran, ["call-0", "call-2", "call-4"]);
  // json: the body goes through untouched and the instance answers in json.
  const json = new TextEncoder().encode(JSON.stringify({ name: "in json" }));
  const reply = await context.forwarder.forward("flight", echo, 1, json, new Map([["x-echo", "meta"]]), Date.now() + 5000);
  // (proto3 JSON leaves out errcode 0, a default value.)
  t.deepEqual(JSON.parse(new TextDecoder().decode(reply)), { errmsg: "instance 0", flightsInfo: "in json" });
  t.is(context.forwarder.openChannels, 3, "one channel per (endpoint, codec)");
  const [a, b] = context.registry.service("flight")!.backends;
  t.deepEqual([a!.calls, b!.calls, a!.inFlight, b!.inFlight, a!.errors], [4, 3, 0, 0, 0]);
});

test("an instance's error reaches the caller with its code and message and is not retried", async (t) => {
  const context = setup(t, { balance: { strategy: "round_robin", hashKey: undefined }, idempotentMethods: ["fail"] });
  await startInstance(t, context, 0);
  await startInstance(t, context, 1);
  const error = await rpcError(t, call(context.forwarder, fail, body(String(Code.NOT_FOUND), { password: "no flight today" })));
  t.is(error.code, Code.NOT_FOUND);
  t.is(error.rawMessage, "no flight today");
  const backends = context.registry.service("flight")!.backends;
  t.deepEqual(
    backends.map((backend) => [backend.calls, backend.errors]),
    [
      [1, 1],
      [0, 0],
    ],
    "one attempt, even for an idempotent method: the handler answered",
  );
});

test("no ready instance: UNAVAILABLE naming the service; an unknown service too", async (t) => {
  const context = setup(t, { balance: { strategy: "random", hashKey: undefined }, idempotentMethods: [] });
  const none = await rpcError(t, call(context.forwarder, echo, body("x")));
  t.is(none.code, Code.UNAVAILABLE);
  t.is(none.rawMessage, 'call to test.svc.echo: service "flight" has no ready instance');
  const unknown = await rpcError(t, context.forwarder.forward("hotel", echo, 0, body("x"), new Map(), Infinity));
  t.is(unknown.code, Code.UNAVAILABLE);
  t.is(unknown.rawMessage, 'call to test.svc.echo: no service named "hotel" is loaded');
});

test("an instance that stopped listening: every call is retried on the other, and it gets ejected", async (t) => {
  const context = setup(t, undefined, { registry: { ejection: { failures: 2, baseMs: 60_000, maxMs: 60_000 } } });
  const dead = await startInstance(t, context, 0);
  const alive = await startInstance(t, context, 1);
  t.is((await call(context.forwarder, echo, body("warm-up"))).errmsg, "instance 0");
  await dead.server.close({ graceMs: 0 });
  const replies = [];
  for (let i = 0; i < 8; i++) replies.push((await call(context.forwarder, echo, body(`after-${i}`))).errmsg);
  t.deepEqual(new Set(replies), new Set(["instance 1"]), "no call failed");
  t.is(alive.recorder.ran.length, 8);
  const backend = context.registry.service("flight")!.backends[0]!;
  t.is(backend.ejection.state.t, "ejected");
  t.is(backend.errors, 2, "tried twice (failures: 2), then left alone");
});

test("a draining instance: calls it refuses go to the other, the call it runs completes (no failed call)", async (t) => {
  const context = setup(t);
  const draining = await startInstance(t, context, 0);
  const other = await startInstance(t, context, 1);
  const long = call(context.forwarder, wait, body("long", { departureCity: "300" }));
  await waitFor(() => draining.recorder.ran.includes("long"), 5000, "the long call to start on instance 0");
  const closed = draining.server.close({ graceMs: 5000 });
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => call(context.forwarder, echo, body(`during-${i}`))));
  t.deepEqual(new Set(replies.map((reply) => reply.errmsg)), new Set(["instance 1"]));
  t.is(other.recorder.ran.length, 6);
  t.is(context.registry.service("flight")!.backends[0]!.errors, 3, "round robin sent 3 of them to the draining instance first");
  t.is((await long).flightsInfo, "waited long");
  await closed;
});

test("down(): the channel to the instance closes once its calls in flight complete", async (t) => {
  const context = setup(t);
  const leaving = await startInstance(t, context, 0);
  await startInstance(t, context, 1);
  await call(context.forwarder, echo, body("a"));
  await call(context.forwarder, echo, body("b"));
  t.is(context.forwarder.openChannels, 2);
  const inFlight = call(context.forwarder, wait, body("last", { departureCity: "200" }));
  await waitFor(() => leaving.recorder.ran.includes("last"), 5000, "the call to start");
  context.registry.down(instanceInfo("flight", 0, leaving.endpoint));
  t.is(context.forwarder.openChannels, 1, "out of the table at once");
  t.is((await inFlight).flightsInfo, "waited last", "the call in flight completed on its channel");
  for (let i = 0; i < 3; i++) t.is((await call(context.forwarder, echo, body(`c${i}`))).errmsg, "instance 1");
});

test("a call that reached a handler and lost its connection (SIGKILL) is retried on another instance only if idempotent", async (t) => {
  // Instance 0 in a child process (killable), instance 1 in this one (its wait answers at once);
  // two routes to them: one where wait is idempotent (idempotent_methods), one where it is not.
  const dir = tempDir(t);
  const endpoint = `unix:${join(dir, "flight.0.1.sock")}`;
  const child = spawnScript(t, "test/daemon/agent-child-server.ts", [endpoint]);
  await child.line(/^ready$/);
  const routes = [false, true].map((idempotent) => {
    const context = setup(t, { balance: { strategy: "round_robin", hashKey: undefined }, idempotentMethods: idempotent ? ["wait"] : [] });
    context.registry.up(instanceInfo("flight", 0, endpoint), served);
    return { idempotent, context };
  });
  const others = await Promise.all(routes.map(({ context }) => startInstance(t, context, 1, true)));
  // Round robin: each route's first call goes to instance 0, the child.
  const pending = routes.map(({ idempotent, context }) =>
    call(context.forwarder, wait, body(`idempotent-${idempotent}`, { departureCity: "20000" })).then(
      (reply) => reply,
      (error: unknown) => error,
    ),
  );
  await child.line(/^running idempotent-false$/);
  await child.line(/^running idempotent-true$/);
  await child.kill();
  const [notRetried, retried] = await Promise.all(pending);
  t.true(notRetried instanceof RpcError);
  const error = notRetried as RpcError;
  t.is(error.code, Code.UNAVAILABLE);
  t.false(error.unsent);
  t.regex(error.rawMessage, /lost/);
  t.deepEqual(others[0]!.recorder.ran, [], "not sent to the other instance: it may have run");
  t.deepEqual(retried, { errcode: 0, errmsg: "instance 1", flightsInfo: "quick idempotent-true" });
  t.deepEqual(others[1]!.recorder.ran, ["idempotent-true"]);
});

test("deadlines: a call past its deadline is not sent; one that times out is not retried unless idempotent", async (t) => {
  const plain = setup(t, { balance: { strategy: "round_robin", hashKey: undefined }, idempotentMethods: [] });
  const plainInstances = [await startInstance(t, plain, 0), await startInstance(t, plain, 1)];
  const late = await rpcError(t, plain.forwarder.forward("flight", echo, 0, body("late"), new Map(), Date.now() - 1));
  t.is(late.code, Code.DEADLINE_EXCEEDED);
  t.regex(late.rawMessage, /ran out of time before it could be sent/);
  const attempts = (context: Setup) => context.registry.service("flight")!.backends.reduce((sum, backend) => sum + backend.calls, 0);
  // Not idempotent: the one attempt has the whole deadline, and its timeout is final.
  const once = await rpcError(t, call(plain.forwarder, wait, body("slow", { departureCity: "2000" }), { timeoutMs: 150 }));
  t.is(once.code, Code.DEADLINE_EXCEEDED);
  t.is(attempts(plain), 1, "one attempt only");
  t.true(plainInstances.flatMap((instance) => instance.recorder.ran).length <= 1);

  // Idempotent with another instance to go to: the first attempt gets half the time left and,
  // unanswered, moves on (attempts.ts: a paused instance must not take the whole deadline);
  // the last attempt's timeout is final, and the call ends with its deadline.
  const idempotent = setup(t, { balance: { strategy: "round_robin", hashKey: undefined }, idempotentMethods: ["wait"] });
  const instances = [await startInstance(t, idempotent, 0), await startInstance(t, idempotent, 1)];
  const startedAt = Date.now();
  // 1 s: each half is long enough for a connection to be opened even on a loaded machine.
  const slow = await rpcError(t, call(idempotent.forwarder, wait, body("slow", { departureCity: "3000" }), { timeoutMs: 1000 }));
  const tookMs = Date.now() - startedAt;
  t.is(slow.code, Code.DEADLINE_EXCEEDED);
  t.true(tookMs < 1000 + 250, `ended with its deadline (${tookMs} ms)`);
  t.is(attempts(idempotent), 2, "two attempts, one on each instance");
  t.true(instances.every((instance) => instance.recorder.ran.length <= 1));
});

test("attempts are bounded: with every instance gone, a call makes maxAttempts attempts and fails with the last error", async (t) => {
  const context = setup(t, undefined, { forwarder: { maxAttempts: 2 } });
  const instances = [await startInstance(t, context, 0), await startInstance(t, context, 1), await startInstance(t, context, 2)];
  for (const instance of instances) await instance.server.close({ graceMs: 0 });
  const error = await rpcError(t, call(context.forwarder, echo, body("nowhere")));
  t.is(error.code, Code.UNAVAILABLE);
  t.true(error.unsent);
  const calls = context.registry.service("flight")!.backends.map((backend) => backend.calls);
  t.is(calls.reduce((sum, count) => sum + count, 0), 2, "two attempts");
  t.true(calls.every((count) => count <= 1), "each on another instance");
  t.throws(() => new Forwarder(context.registry, { maxAttempts: 0 }), { instanceOf: RpcError, message: /maxAttempts must be an integer >= 1, got 0/ });
});

test("consistent_hash: the same metadata key or request field reaches the same instance", async (t) => {
  const context = setup(t, { balance: { strategy: "consistent_hash", hashKey: { from: "metadata", name: "user" } }, idempotentMethods: [] });
  for (let i = 0; i < 3; i++) await startInstance(t, context, i);
  const owners = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let user = 0; user < 12; user++) {
      const reply = await call(context.forwarder, echo, body(`r${round}`), { metadata: { user: `user-${user}` } });
      owners.set(`user-${user}`, (owners.get(`user-${user}`) ?? new Set()).add(reply.errmsg));
    }
  }
  t.true([...owners.values()].every((set) => set.size === 1), "each user always on one instance");
  t.true(new Set([...owners.values()].map((set) => [...set][0])).size > 1, "users spread over the instances");

  context.registry.configure("flight", { balance: { strategy: "consistent_hash", hashKey: { from: "field", name: "1" } }, idempotentMethods: [] });
  const byName = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let name = 0; name < 12; name++) {
      const reply = await call(context.forwarder, echo, body(`name-${name}`));
      byName.set(`name-${name}`, (byName.get(`name-${name}`) ?? new Set()).add(reply.errmsg));
    }
  }
  t.true([...byName.values()].every((set) => set.size === 1), "each name (field 1) always on one instance");
  t.true(new Set([...byName.values()].map((set) => [...set][0])).size > 1);
});

test("after close(), forward() fails UNAVAILABLE and the channels are closed", async (t) => {
  const context = setup(t);
  await startInstance(t, context, 0);
  await call(context.forwarder, echo, body("x"));
  await context.forwarder.close();
  t.is(context.forwarder.openChannels, 0);
  const error = await rpcError(t, call(context.forwarder, echo, body("y")));
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.rawMessage, /shutting down/);
});
