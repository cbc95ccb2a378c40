import test from "ava";
import { join } from "node:path";
import { Code, RpcError, createChannel, createServer, type Codec, type Interceptor } from "msf";
import { FlightServiceDefinition, flightMethod, queryFlightMethod, testService } from "../helpers/flight-service.js";
import {
  TestService,
  abstractName,
  request,
  rpcError,
  startTestServer,
  tempDir,
  testHandlers,
} from "../helpers/runtime-fixtures.js";

const echo = TestService.methods.echo;

for (const [label, listen] of [
  ["unix path", (dir: string) => `unix:${join(dir, "s.sock")}`],
  ["unix abstract", () => abstractName("unary")],
  ["tcp IPv4", () => "tcp://127.0.0.1:0"],
  ["tcp IPv6", () => "tcp://[::1]:0"],
] as const) {
  test(`unary call over ${label}`, async (t) => {
    const server = await startTestServer(t, [listen(tempDir(t))]);
    const address = server.addresses[0]!;
    if (label.startsWith("tcp")) t.notRegex(address, /:0$/, "port 0 resolved to the bound port");
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const reply = await channel.unary(echo, request("bison"));
    t.deepEqual(reply, { errcode: 0, errmsg: "", flightsInfo: "bison" });
    t.is(channel.target, address);
  });
}

for (const codec of ["protobuf", "json", "msgpack"] as const) {
  test(`the ${codec} codec carries requests and responses, and the server answers in it`, async (t) => {
    const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
    server.addService(FlightServiceDefinition, {
      queryFlight: (flight) => ({ errcode: 7, errmsg: "ünïcode ✈", flightsInfo: `${flight.departureCity}->${flight.destinationCity}` }),
    });
    await server.start();
    t.teardown(() => server.close({ graceMs: 0 }));
    const channel = createChannel(server.addresses[0]!, { codec, timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const reply = await channel.unary(queryFlightMethod, { name: "n", password: "p", departureCity: "sz", destinationCity: "xz" });
    t.deepEqual(reply, { errcode: 7, errmsg: "ünïcode ✈", flightsInfo: "sz->xz" });
  });
}

test("metadata reaches the handler as context.metadata (record or Map)", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const fromRecord = await channel.unary(echo, request("a"), { metadata: { "x-echo": "from a record ✓" } });
  t.is(fromRecord.errmsg, "from a record ✓");
  const fromMap = await channel.unary(echo, request("b"), { metadata: new Map([["x-echo", "from a map"], ["other", "1"]]) });
  t.is(fromMap.errmsg, "from a map");
  const none = await channel.unary(echo, request("c"));
  t.is(none.errmsg, "");
  const bad = await rpcError(t, channel.unary(echo, request("d"), { metadata: { "Bad Key": "x" } }));
  t.is(bad.code, Code.INVALID_ARGUMENT);
  t.regex(bad.message, /metadata key "Bad Key" is invalid/);
});

test("a handler's RpcError reaches the caller with its code and message; the server keeps serving", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(TestService.methods.fail, request(String(Code.NOT_FOUND), { password: "no flight today" })));
  t.is(error.code, Code.NOT_FOUND);
  t.is(error.rawMessage, "no flight today");
  t.is(error.message, "[NOT_FOUND] no flight today");
  t.is((await channel.unary(echo, request("after"))).flightsInfo, "after");
});

test("a handler throwing a plain Error is INTERNAL with its message; the server keeps serving", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(TestService.methods.crash, request("x1")));
  t.is(error.code, Code.INTERNAL);
  t.is(error.rawMessage, "crashed on x1");
  t.is((await channel.unary(echo, request("after"))).flightsInfo, "after");
});

test("an unknown method is UNIMPLEMENTED, naming its id and the method the client called", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const missing = flightMethod("test.svc.missing");
  const error = await rpcError(t, channel.unary(missing, request("x")));
  t.is(error.code, Code.UNIMPLEMENTED);
  t.true(error.message.includes(`unknown method id 0x${missing.id.toString(16).padStart(8, "0")}`));
  t.true(error.message.includes("test.svc.missing"));
  t.true(error.message.includes("services served here: test.svc"));
});

test("a body the codec cannot read is INVALID_ARGUMENT; the server keeps serving", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  // A codec that sends bytes that are not JSON under the json codec's id.
  const broken: Codec = { id: 1, name: "json", encode: () => new TextEncoder().encode("{not json"), decode: <T>() => ({}) as T };
  const channel = createChannel(server.addresses[0]!, { codec: broken });
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(echo, request("x")));
  t.is(error.code, Code.INVALID_ARGUMENT);
  t.regex(error.message, /request to test\.svc\.echo: malformed json body/);
  const unknownCodec = createChannel(server.addresses[0]!, { codec: { ...broken, id: 99 } });
  t.teardown(() => unknownCodec.close());
  const unknown = await rpcError(t, unknownCodec.unary(echo, request("x")));
  t.is(unknown.code, Code.INVALID_ARGUMENT);
  t.regex(unknown.message, /unknown codec id 99/);
  const good = createChannel(server.addresses[0]!);
  t.teardown(() => good.close());
  t.is((await good.unary(echo, request("ok"))).flightsInfo, "ok");
});

test("a handler returning nothing is INTERNAL naming the method", async (t) => {
  const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
  server.addService(FlightServiceDefinition, { queryFlight: (() => undefined) as never });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(queryFlightMethod, request("x")));
  t.is(error.code, Code.INTERNAL);
  t.regex(error.message, /handler of flight\.flight_service\.queryFlight returned undefined/);
});

test("handlers written as class methods keep their this", async (t) => {
  class Impl {
    private readonly prefix = "impl:";
    queryFlight(flight: { name: string }) {
      return { errcode: 0, errmsg: "", flightsInfo: this.prefix + flight.name };
    }
  }
  const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
  server.addService(FlightServiceDefinition, new Impl());
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  const channel = createChannel(server.addresses[0]!);
  t.teardown(() => channel.close());
  t.is((await channel.unary(queryFlightMethod, request("x"))).flightsInfo, "impl:x");
});

test("addService rejects a missing handler and a method id already served, naming them", (t) => {
  const server = createServer({ listen: ["tcp://127.0.0.1:0"] });
  const missing = t.throws(() => server.addService(TestService, { echo: () => ({}) } as never), { instanceOf: RpcError });
  t.regex(missing!.message, /addService\(test\.svc\): no handler for method "fail" \(test\.svc\.fail\)/);
  server.addService(TestService, testHandlers());
  const again = t.throws(() => server.addService(TestService, testHandlers()), { instanceOf: RpcError });
  t.regex(again!.message, /method test\.svc\.echo is already served/);
  // A definition whose id does not match its name is out of date.
  const forged = testService("other.svc", ["echo"] as const);
  const stale = { ...forged, methods: { echo: { ...forged.methods.echo, id: echo.id } } };
  const outdated = t.throws(() => server.addService(stale, { echo: () => ({}) } as never), { instanceOf: RpcError });
  t.regex(outdated!.message, /has id 0x[0-9a-f]{8}, but methodId\("other\.svc\.echo"\) is 0x[0-9a-f]{8}/);
  // Two names with the same FNV-1a id (found by search: both hash to 0xc0175a8b).
  server.addService(testService("test.coll", ["m7819"] as const), { m7819: () => ({}) } as never);
  const collision = t.throws(
    () => server.addService(testService("test.coll", ["m1262130"] as const), { m1262130: () => ({}) } as never),
    { instanceOf: RpcError },
  );
  t.regex(collision!.message, /method id 0xc0175a8b of test\.coll\.m1262130 collides with test\.coll\.m7819/);
});

test("interceptors compose first-outermost on both sides and see the call", async (t) => {
  const order: string[] = [];
  const tag =
    (name: string): Interceptor =>
    (next) =>
    async (call) => {
      order.push(`${name}>${call.side}:${call.method.localName}`);
      if (call.side === "client") call.metadata.set("x-echo", `${call.metadata.get("x-echo") ?? ""}${name}`);
      if (call.side === "server") order.push(`ctx:${call.context.metadata.get("x-echo")}`);
      const result = await next(call);
      order.push(`${name}<`);
      return result;
    };
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], { interceptors: [tag("s1"), tag("s2")] });
  const channel = createChannel(server.addresses[0]!, { interceptors: [tag("c1"), tag("c2")] });
  t.teardown(() => channel.close());
  const reply = await channel.unary(echo, request("x"), { metadata: { "x-echo": ">" } });
  t.is(reply.errmsg, ">c1c2");
  t.deepEqual(order, [
    "c1>client:echo",
    "c2>client:echo",
    "s1>server:echo",
    "ctx:>c1c2",
    "s2>server:echo",
    "ctx:>c1c2",
    "s2<",
    "s1<",
    "c2<",
    "c1<",
  ]);
  // A server interceptor may refuse a call with an RpcError.
  const guard: Interceptor = () => async () => {
    throw new RpcError(Code.PERMISSION_DENIED, "not you");
  };
  const guarded = await startTestServer(t, ["tcp://127.0.0.1:0"], { interceptors: [guard] });
  const other = createChannel(guarded.addresses[0]!);
  t.teardown(() => other.close());
  const denied = await rpcError(t, other.unary(echo, request("x")));
  t.is(denied.code, Code.PERMISSION_DENIED);
  t.is(denied.rawMessage, "not you");
});
