import test from "ava";
import { join } from "node:path";
import { Code, RpcError, createChannel } from "msf";
import { TestService, request, startTestServer, tempDir } from "../helpers/runtime-fixtures.js";

const { echo, wait, fail } = TestService.methods;

test("2,000 calls, 64 in flight, replies out of order: every call gets its own reply", async (t) => {
  const server = await startTestServer(t, [`unix:${join(tempDir(t), "many.sock")}`]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 20_000 });
  t.teardown(() => channel.close());
  const total = 2000;
  let next = 0;
  let matched = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const name = `call-${i}`;
      if (i % 10 === 0) {
        // Delayed replies overtake and get overtaken.
        const reply = await channel.unary(wait, request(name, { departureCity: String(i % 7) }));
        if (reply.flightsInfo === `waited ${name}`) matched++;
      } else if (i % 10 === 1) {
        const error = await channel.unary(fail, request(String(Code.ABORTED), { password: name })).catch((e: RpcError) => e);
        if (error instanceof RpcError && error.code === Code.ABORTED && error.rawMessage === name) matched++;
      } else {
        const reply = await channel.unary(echo, request(name), { metadata: { "x-echo": name } });
        if (reply.flightsInfo === name && reply.errmsg === name) matched++;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  t.is(matched, total);
});

test("large messages (split across many reads) arrive intact both ways", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 20_000 });
  t.teardown(() => channel.close());
  const names = [0, 1, 65_535, 65_536, 300_000, 1_000_000].map((size, i) => `${i}:` + "é✈z".repeat(Math.ceil(size / 6)));
  const replies = await Promise.all(names.map((name) => channel.unary(echo, request(name))));
  replies.forEach((reply, i) => t.true(reply.flightsInfo === names[i], `message ${i} intact`));
});

test("a reply larger than the client's maxBodyBytes closes the connection: UNAVAILABLE, then recovery", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000, maxBodyBytes: 1000 });
  t.teardown(() => channel.close());
  t.is((await channel.unary(echo, request("x".repeat(900)))).flightsInfo.length, 900);
  const big = await channel.unary(echo, request("x".repeat(2000))).catch((error: unknown) => error);
  t.true(big instanceof RpcError);
  t.is((big as RpcError).code, Code.UNAVAILABLE);
  t.regex((big as RpcError).message, /lost \(\[INTERNAL\] protocol error at byte \d+ of the connection stream: /);
  t.regex((big as RpcError).message, /frame body of \d+ bytes exceeds the limit of 1000 bytes\)/);
  t.is((await channel.unary(echo, request("small"))).flightsInfo, "small");
});
