// Direct mode: createNamedChannel against real servers on unix sockets, endpoints from a resolver function.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { Code, RpcError, createServer, type Interceptor, type MethodDefinition } from "msf";
import { createNamedChannel, type NamedChannel, type NamedChannelOptions, type Resolution } from "../../runtime/daemon/agent/named-channel.js";
import { spawnScript } from "../helpers/child.js";
import type { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { TestService, request, rpcError, tempDir, testHandlers, waitFor, type Recorder } from "../helpers/runtime-fixtures.js";

const echo = TestService.methods.echo;
const wait = TestService.methods.wait;

interface Instance {
  readonly endpoint: string;
  readonly recorder: Recorder;
  close(): Promise<void>;
}

/** Starts an in-process TestService server whose echo answers "instance <label>"; closed with the test. */
async function startInstance(t: ExecutionContext, dir: string, label: string): Promise<Instance> {
  const recorder: Recorder = { aborts: new Map(), ran: [] };
  const endpoint = `unix:${join(dir, `${label}.sock`)}`;
  const handlers = testHandlers(recorder);
  const server = createServer({ listen: [endpoint] });
  server.addService(TestService, { ...handlers, echo: (req, context) => ({ ...handlers.echo(req, context), errmsg: `instance ${label}` }) });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { endpoint, recorder, close: () => server.close({ graceMs: 0 }) };
}

/** A resolver over a list the test changes; counts its calls. */
function listResolver(initial: Resolution) {
  const state = { resolution: initial, calls: 0, failWith: undefined as Error | undefined };
  const resolver = async (service: string): Promise<Resolution> => {
    state.calls++;
    if (state.failWith !== undefined) throw state.failWith;
    if (service !== "flight") throw new RpcError(Code.NOT_FOUND, `no service ${service}`);
    return state.resolution;
  };
  return { state, resolver };
}

function named(t: ExecutionContext, options: NamedChannelOptions, service = "flight"): NamedChannel {
  const channel = createNamedChannel(service, { timeoutMs: 5000, ...options });
  t.teardown(() => channel.close());
  return channel;
}

test("calls are balanced round robin over the resolved instances; resolved once on the first call", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const b = await startInstance(t, dir, "b");
  const { state, resolver } = listResolver({ endpoints: [a.endpoint, b.endpoint], strategy: "round_robin" });
  const channel = named(t, { resolver });
  t.is(channel.target, "flight");
  t.is(channel.endpoint, undefined);
  t.deepEqual(channel.endpoints, []);
  t.is(state.calls, 0, "nothing resolved before the first call");
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push((await channel.unary(echo, request(`c${i}`))).errmsg);
  t.deepEqual(replies, ["instance a", "instance b", "instance a", "instance b", "instance a", "instance b"]);
  t.is(state.calls, 1);
  t.deepEqual(channel.endpoints, [a.endpoint, b.endpoint]);
  t.is(channel.endpoint, b.endpoint, "the endpoint of the last call");
});

test("an instance that went away: calls are retried on the other, and the channel resolves again", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const b = await startInstance(t, dir, "b");
  const { state, resolver } = listResolver({ endpoints: [a.endpoint, b.endpoint], strategy: "round_robin" });
  const channel = named(t, { resolver });
  t.is((await channel.unary(echo, request("first"))).errmsg, "instance a");
  await a.close();
  // The daemon no longer lists it; the channel learns it when a call finds it unreachable.
  state.resolution = { endpoints: [b.endpoint], strategy: "round_robin" };
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push((await channel.unary(echo, request(`after-${i}`))).errmsg);
  t.deepEqual(new Set(replies), new Set(["instance b"]), "no call failed");
  await waitFor(() => channel.endpoints.length === 1, 5000, "the channel to drop the dead endpoint");
  t.true(state.calls >= 2);
  t.deepEqual(channel.endpoints, [b.endpoint]);
});

test("endpoints are refreshed periodically: a new instance starts taking calls", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const { state, resolver } = listResolver({ endpoints: [a.endpoint], strategy: "round_robin" });
  const channel = named(t, { resolver, refreshMs: 30 });
  t.is((await channel.unary(echo, request("x"))).errmsg, "instance a");
  const b = await startInstance(t, dir, "b");
  state.resolution = { endpoints: [a.endpoint, b.endpoint], strategy: "round_robin" };
  await waitFor(() => channel.endpoints.length === 2, 5000, "the periodic refresh");
  const replies = new Set<string>();
  for (let i = 0; i < 4; i++) replies.add((await channel.unary(echo, request(`y${i}`))).errmsg);
  t.deepEqual([...replies].sort(), ["instance a", "instance b"]);
  // Removing an instance from the list closes its channel; calls go on to the rest.
  state.resolution = { endpoints: [b.endpoint], strategy: "round_robin" };
  await waitFor(() => channel.endpoints.length === 1, 5000, "the periodic refresh");
  for (let i = 0; i < 3; i++) t.is((await channel.unary(echo, request(`z${i}`))).errmsg, "instance b");
});

test("consistent_hash over a request field (by name or number) or metadata: one key, one instance", async (t) => {
  const dir = tempDir(t);
  const instances = [await startInstance(t, dir, "a"), await startInstance(t, dir, "b"), await startInstance(t, dir, "c")];
  const endpoints = instances.map((instance) => instance.endpoint);
  for (const hashKey of [
    { from: "field", name: "name" },
    { from: "field", name: "1" },
    { from: "metadata", name: "user" },
  ] as const) {
    const { resolver } = listResolver({ endpoints, strategy: "consistent_hash", hashKey });
    const channel = named(t, { resolver });
    const owners = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let key = 0; key < 12; key++) {
        const reply = await channel.unary(echo, request(`key-${key}`), { metadata: { user: `key-${key}` } });
        owners.set(`key-${key}`, (owners.get(`key-${key}`) ?? new Set()).add(reply.errmsg));
      }
    }
    t.true([...owners.values()].every((set) => set.size === 1), `${hashKey.from}:${hashKey.name}: each key on one instance`);
    t.true(new Set([...owners.values()].map((set) => [...set][0])).size > 1, `${hashKey.from}:${hashKey.name}: keys spread`);
  }
});

test("options.strategy overrides the resolver's", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const b = await startInstance(t, dir, "b");
  const { resolver } = listResolver({ endpoints: [a.endpoint, b.endpoint], strategy: "consistent_hash", hashKey: { from: "field", name: "name" } });
  const channel = named(t, { resolver, strategy: "round_robin" });
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push((await channel.unary(echo, request("same"))).errmsg);
  t.deepEqual(replies, ["instance a", "instance b", "instance a", "instance b"]);
});

test("a failing resolver fails the call with its code; the next call resolves again; a malformed answer is INTERNAL", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const { state, resolver } = listResolver({ endpoints: [a.endpoint], strategy: "round_robin" });
  state.failWith = new RpcError(Code.UNAVAILABLE, "msfd is not running");
  const channel = named(t, { resolver });
  const error = await rpcError(t, channel.unary(echo, request("x")));
  t.is(error.code, Code.UNAVAILABLE);
  t.is(error.rawMessage, 'resolving service "flight": msfd is not running');
  state.failWith = undefined;
  t.is((await channel.unary(echo, request("y"))).errmsg, "instance a");

  const unknown = await rpcError(t, named(t, { resolver }, "hotel").unary(echo, request("z")));
  t.is(unknown.code, Code.NOT_FOUND);
  const broken = named(t, { resolver: async () => ({ endpoints: "unix:/x" }) as unknown as Resolution });
  const malformed = await rpcError(t, broken.unary(echo, request("w")));
  t.is(malformed.code, Code.INTERNAL);
  t.regex(malformed.rawMessage, /the resolver returned \{"endpoints":"unix:\/x"\}; expected \{ endpoints: string\[\], strategy \}/);
});

test("no instance: UNAVAILABLE naming the service", async (t) => {
  const { resolver } = listResolver({ endpoints: [], strategy: "random" });
  const error = await rpcError(t, named(t, { resolver }).unary(echo, request("x")));
  t.is(error.code, Code.UNAVAILABLE);
  t.is(error.rawMessage, 'call to test.svc.echo: service "flight" has no instance (the resolver returned no endpoints)');
});

test("interceptors run once per call, around all its attempts; handler errors keep their code", async (t) => {
  const dir = tempDir(t);
  const dead = await startInstance(t, dir, "dead");
  const b = await startInstance(t, dir, "b");
  await dead.close();
  const seen: string[] = [];
  const interceptor: Interceptor = (next) => async (call) => {
    seen.push(call.method.localName);
    if (call.side === "client") call.metadata.set("x-echo", "intercepted");
    return next(call);
  };
  const { resolver } = listResolver({ endpoints: [dead.endpoint, b.endpoint], strategy: "round_robin" });
  const channel = named(t, { resolver, interceptors: [interceptor] });
  const reply = await channel.unary(echo, request("x"));
  t.is(reply.errmsg, "instance b");
  t.deepEqual(seen, ["echo"], "the retry on b did not run the interceptor again");
  t.deepEqual(b.recorder.ran, ["x"]);
  const error = await rpcError(t, channel.unary(TestService.methods.fail, request(String(Code.ALREADY_EXISTS), { password: "taken" })));
  t.is(error.code, Code.ALREADY_EXISTS);
  t.is(error.rawMessage, "taken");
});

test("a call that may have run (connection lost) is retried only if the method is idempotent", async (t) => {
  const dir = tempDir(t);
  const endpoint = `unix:${join(dir, "child.sock")}`;
  const quick = await startInstance(t, dir, "quick");
  const child = spawnScript(t, "test/daemon/agent-child-server.ts", [endpoint]);
  await child.line(/^ready$/);
  const { resolver } = listResolver({ endpoints: [endpoint, quick.endpoint], strategy: "round_robin" });
  // One channel per call: round robin sends each first call to the child.
  const pending = [false, true].map((idempotent) => {
    const method: MethodDefinition<QueryFlightRequest, QueryFlightResponse> = { ...wait, idempotent };
    return named(t, { resolver })
      .unary(method, request(`lost-${idempotent}`, { departureCity: "50" }))
      .then(
        (reply) => reply,
        (error: unknown) => error,
      );
  });
  await child.line(/^running lost-false$/);
  await child.line(/^running lost-true$/);
  await child.kill();
  const [notRetried, retried] = await Promise.all(pending);
  t.true(notRetried instanceof RpcError);
  t.is((notRetried as RpcError).code, Code.UNAVAILABLE);
  t.false((notRetried as RpcError).unsent);
  t.is((retried as QueryFlightResponse).flightsInfo, "waited lost-true", "sent again to the other instance");
  t.deepEqual(quick.recorder.ran, ["lost-true"]);
});

test("close(): later calls fail UNAVAILABLE; bad options are refused when the channel is created", async (t) => {
  const dir = tempDir(t);
  const a = await startInstance(t, dir, "a");
  const { resolver } = listResolver({ endpoints: [a.endpoint], strategy: "round_robin" });
  const channel = named(t, { resolver });
  await channel.unary(echo, request("x"));
  await channel.close();
  t.is(channel.endpoint, undefined);
  const error = await rpcError(t, channel.unary(echo, request("y")));
  t.is(error.code, Code.UNAVAILABLE);
  t.true(error.unsent);
  const bad = (options: unknown) => t.throws(() => createNamedChannel("flight", options as NamedChannelOptions), { instanceOf: RpcError });
  t.regex(bad({}).message, /options\.resolver must be a function/);
  t.regex(bad({ resolver, refreshMs: 0 }).message, /refreshMs must be a number of ms > 0, got 0/);
  t.regex(bad({ resolver, maxAttempts: 1.5 }).message, /maxAttempts must be an integer >= 1, got 1\.5/);
  t.regex(bad({ resolver, strategy: "fastest" }).message, /unknown load-balancing strategy "fastest"/);
  t.regex(bad({ resolver, codec: "xml" }).message, /unknown codec "xml"/);
  t.regex(t.throws(() => createNamedChannel("", { resolver }))!.message, /the service must be a non-empty string/);
});

test("blocking calls: refused before the first resolution, then balanced, and retried (idempotent) like async ones", async (t) => {
  const dir = tempDir(t);
  // Blocking calls block this thread: the instances live in child processes.
  const children = ["p", "q"].map((label) => {
    const endpoint = `unix:${join(dir, `${label}.sock`)}`;
    return { endpoint, child: spawnScript(t, "test/daemon/agent-child-server.ts", [endpoint]) };
  });
  for (const { child } of children) await child.line(/^ready$/);
  const { resolver } = listResolver({ endpoints: children.map(({ endpoint }) => endpoint), strategy: "round_robin" });
  const channel = named(t, { resolver });
  const early = t.throws(() => channel.unarySync(echo, request("early"), { timeoutMs: 2000 }), { instanceOf: RpcError });
  t.is(early.code, Code.UNAVAILABLE);
  t.regex(early.message, /has not resolved its endpoints yet/);
  await channel.refresh();
  const pids = Array.from({ length: 4 }, (_, i) => channel.unarySync(echo, request(`s${i}`), { timeoutMs: 5000 }).errmsg);
  const [p, q] = children.map(({ child }) => String(child.process.pid));
  t.deepEqual(pids, [p, q, p, q]);
  await children[0]!.child.kill();
  // Idempotent: the blocking engine does not mark a refused connection `unsent` (yet), so only
  // an idempotent method is sent on to the other instance after a failed connect.
  const idempotentEcho = { ...echo, idempotent: true };
  const after = Array.from({ length: 3 }, (_, i) => channel.unarySync(idempotentEcho, request(`t${i}`), { timeoutMs: 5000 }).errmsg);
  t.deepEqual(after, [q, q, q], "calls to the killed instance went to the other");
});
