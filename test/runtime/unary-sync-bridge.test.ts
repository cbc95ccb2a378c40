import test from "ava";
import { join } from "node:path";
import { Code, RpcError, createChannel } from "msf";
import { spawnScript } from "../helpers/child.js";
import { TestService, request, tempDir } from "../helpers/runtime-fixtures.js";

// unarySync blocks this thread, so the server runs in its own process.
test("Channel.unarySync answers through the blocking caller, alongside async calls", async (t) => {
  const target = `unix:${join(tempDir(t), "sync.sock")}`;
  const child = spawnScript(t, "test/helpers/child-server-main.ts", [target]);
  await child.line(/^ready$/);
  const channel = createChannel(target, { timeoutMs: 10_000 });
  t.teardown(() => channel.close());
  const reply = channel.unarySync(TestService.methods.echo, request("blocking"), { metadata: { "x-echo": "ignored" } });
  t.is(reply.flightsInfo, "blocking");
  t.is(reply.errmsg, String(child.process.pid));
  const error = t.throws(() => channel.unarySync(TestService.methods.fail, request(String(Code.NOT_FOUND), { password: "none" })), {
    instanceOf: RpcError,
  });
  t.is(error?.code, Code.NOT_FOUND);
  const late = t.throws(() => channel.unarySync(TestService.methods.wait, request("w", { departureCity: "2000" }), { timeoutMs: 100 }), {
    instanceOf: RpcError,
  });
  t.is(late?.code, Code.DEADLINE_EXCEEDED);
  t.is((await channel.unary(TestService.methods.echo, request("async"))).flightsInfo, "async");
  await channel.close();
  t.is(t.throws(() => channel.unarySync(TestService.methods.echo, request("x")))?.message.includes("closed"), true);
});
