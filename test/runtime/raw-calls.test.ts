// Raw calls (msf/internal rawCodec, rawMethod; Server.addRawService): a broker forwards a call's
// bytes unchanged to a backend and the reply's bytes back, in whatever codec the caller chose;
// RpcError.unsent tells it when a failed call never reached any server.
import test from "ava";
import { join } from "node:path";
import { Code, createChannel, createServer, type Channel, type Metadata } from "msf";
import { rawCodec, rawMethod } from "msf/internal";
import { TestService, request, rpcError, startTestServer, tempDir } from "../helpers/runtime-fixtures.js";

const methods = Object.values(TestService.methods).map((method) => method.fullName);

/** A broker on `listen` forwarding every TestService method to `backend` through raw channels (one per codec). */
async function startBroker(t: Parameters<typeof tempDir>[0], listen: string, backend: string) {
  const channels = new Map<number, Channel>();
  const broker = createServer({ listen: [listen] });
  broker.addRawService(TestService.fullName, methods, (method, body, context, codecId) => {
    let channel = channels.get(codecId);
    if (channel === undefined) {
      channel = createChannel(backend, { codec: rawCodec(codecId) });
      channels.set(codecId, channel);
    }
    const timeoutMs = context.deadline === Infinity ? undefined : Math.max(0, context.deadline - Date.now());
    const metadata: Metadata | undefined = context.metadata.size === 0 ? undefined : context.metadata;
    return channel.unary(method, body, { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(metadata === undefined ? {} : { metadata }) });
  });
  await broker.start();
  t.teardown(async () => {
    await broker.close({ graceMs: 0 });
    await Promise.all([...channels.values()].map((channel) => channel.close()));
  });
  return broker;
}

for (const codec of ["protobuf", "json", "msgpack"] as const) {
  test(`a call forwarded as bytes in ${codec} reaches the backend and its reply comes back`, async (t) => {
    const dir = tempDir(t);
    await startTestServer(t, [`unix:${join(dir, "backend.sock")}`]);
    await startBroker(t, `unix:${join(dir, "broker.sock")}`, `unix:${join(dir, "backend.sock")}`);
    const channel = createChannel(`unix:${join(dir, "broker.sock")}`, { codec, timeoutMs: 2000 });
    t.teardown(() => channel.close());
    const reply = await channel.unary(TestService.methods.echo, request("bison"), { metadata: { "x-echo": "through the broker" } });
    t.is(reply.flightsInfo, "bison");
    t.is(reply.errmsg, "through the broker");
    const failed = await rpcError(t, channel.unary(TestService.methods.fail, request(String(Code.NOT_FOUND), { password: "no such flight" })));
    t.is(failed.code, Code.NOT_FOUND);
    t.is(failed.rawMessage, "no such flight");
  });
}

test("the backend sees the caller's deadline through the broker", async (t) => {
  const dir = tempDir(t);
  await startTestServer(t, [`unix:${join(dir, "backend.sock")}`]);
  await startBroker(t, `unix:${join(dir, "broker.sock")}`, `unix:${join(dir, "backend.sock")}`);
  const channel = createChannel(`unix:${join(dir, "broker.sock")}`);
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(TestService.methods.wait, request("slow", { departureCity: "2000" }), { timeoutMs: 150 }));
  t.is(error.code, Code.DEADLINE_EXCEEDED);
});

test("removeService stops routing a raw service; addRawService rejects bad method names", async (t) => {
  const dir = tempDir(t);
  await startTestServer(t, [`unix:${join(dir, "backend.sock")}`]);
  const broker = await startBroker(t, `unix:${join(dir, "broker.sock")}`, `unix:${join(dir, "backend.sock")}`);
  const channel = createChannel(`unix:${join(dir, "broker.sock")}`, { timeoutMs: 2000 });
  t.teardown(() => channel.close());
  t.is((await channel.unary(TestService.methods.echo, request("before"))).flightsInfo, "before");
  t.true(broker.removeService(TestService.fullName));
  t.false(broker.removeService(TestService.fullName));
  const error = await rpcError(t, channel.unary(TestService.methods.echo, request("after")));
  t.is(error.code, Code.UNIMPLEMENTED);
  t.throws(() => broker.addRawService("other.svc", ["test.svc.echo"], async (_m, body) => body), {
    message: /method "test\.svc\.echo" is not "other\.svc\.<rpc>"/,
  });
});

test("rawMethod computes the same wire id as msf-gen; rawCodec rejects an unknown id", (t) => {
  t.is(rawMethod(TestService.methods.echo.fullName).id, TestService.methods.echo.id);
  t.is(rawMethod("a.b.c", true).idempotent, true);
  t.throws(() => rawCodec(7), { message: /no codec has wire id 7/ });
});

test("unsent is true when no connection could be opened, false when the server answered", async (t) => {
  const dir = tempDir(t);
  const dead = createChannel(`unix:${join(dir, "nobody.sock")}`, { timeoutMs: 1000 });
  t.teardown(() => dead.close());
  const unreachable = await rpcError(t, dead.unary(TestService.methods.echo, request("x")));
  t.is(unreachable.code, Code.UNAVAILABLE);
  t.true(unreachable.unsent);
  await startTestServer(t, [`unix:${join(dir, "backend.sock")}`]);
  const live = createChannel(`unix:${join(dir, "backend.sock")}`, { timeoutMs: 1000 });
  t.teardown(() => live.close());
  const answered = await rpcError(t, live.unary(TestService.methods.fail, request(String(Code.ABORTED), { password: "no" })));
  t.false(answered.unsent);
  await live.close();
  const closed = await rpcError(t, live.unary(TestService.methods.echo, request("x")));
  t.true(closed.unsent);
});
