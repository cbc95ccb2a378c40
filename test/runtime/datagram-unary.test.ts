// Unary calls over the datagram transports (udp IPv4 and IPv6, netlink), with the same client and
// server API as the stream transports: in one process, then against a real server process with
// async and blocking calls.
import test from "ava";
import { Code, createChannel } from "msf";
import { spawnScript } from "../helpers/child.js";
import { queryFlightMethod } from "../helpers/flight-service.js";
import { TestService, request, rpcError, startTestServer } from "../helpers/runtime-fixtures.js";

const echo = TestService.methods.echo;
const transports = [
  ["udp IPv4", "udp://127.0.0.1:0", /^udp:\/\/127\.0\.0\.1:[1-9]\d*$/],
  ["udp IPv6", "udp://[::1]:0", /^udp:\/\/\[::1\]:[1-9]\d*$/],
  ["netlink", "netlink://0", /^netlink:\/\/[1-9]\d*$/],
] as const;

for (const [label, listen, bound] of transports) {
  test(`unary calls over ${label}: replies, errors, metadata, many in flight`, async (t) => {
    const server = await startTestServer(t, [listen]);
    const address = server.addresses[0]!;
    t.regex(address, bound, "port 0 resolved to the bound port");
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    t.deepEqual(await channel.unary(echo, request("bison")), { errcode: 0, errmsg: "", flightsInfo: "bison" });
    t.is((await channel.unary(echo, request("m"), { metadata: { "x-echo": "über ✈" } })).errmsg, "über ✈");
    const error = await rpcError(t, channel.unary(TestService.methods.fail, request(String(Code.NOT_FOUND), { password: "no flight" })));
    t.is(error.code, Code.NOT_FOUND);
    t.is(error.rawMessage, "no flight");
    const names = Array.from({ length: 300 }, (_, i) => `call-${i}`);
    const replies = await Promise.all(names.map((name) => channel.unary(echo, request(name))));
    t.deepEqual(
      replies.map((reply) => reply.flightsInfo),
      names,
    );
  });
}

test("a server listens on udp, netlink and unix at once; each client reaches it over its own transport", async (t) => {
  const server = await startTestServer(t, ["udp://127.0.0.1:0", "netlink://0", `unix:@msf-dg-${process.pid}-${Date.now()}`]);
  t.is(server.addresses.length, 3);
  for (const address of server.addresses) {
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    t.is((await channel.unary(echo, request(address))).flightsInfo, address);
  }
});

for (const [label, listen] of [transports[0], transports[2]]) {
  test(`the flight service in another process over ${label}: async calls, then blocking calls`, async (t) => {
    const child = spawnScript(t, "test/helpers/datagram-server-main.ts", [listen]);
    const address = (await child.line(/^listening (\S+)$/))[1]!;
    await child.line(/^ready$/);
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const flight = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
    const reply = await channel.unary(queryFlightMethod, flight);
    t.is(reply.flightsInfo, "sz->xz for bison");
    t.regex(reply.errmsg, /^pid \d+$/);
    t.not(reply.errmsg, `pid ${process.pid}`, "answered by the other process");
    const parallel = await Promise.all(
      Array.from({ length: 64 }, (_, i) => channel.unary(queryFlightMethod, { ...flight, name: `async-${i}` })),
    );
    t.true(parallel.every((each, i) => each.flightsInfo === `sz->xz for async-${i}`));

    for (let i = 0; i < 5; i++) {
      const blocking = channel.unarySync(queryFlightMethod, { ...flight, name: `sync-${i}` }, { timeoutMs: 5000 });
      t.is(blocking.flightsInfo, `sz->xz for sync-${i}`);
    }
    const runs = JSON.parse(channel.unarySync(queryFlightMethod, { ...flight, name: "__runs__" }).flightsInfo) as Record<string, number>;
    t.is(runs["bison"], 1);
    t.is(runs["sync-4"], 1);
    t.is(Object.keys(runs).length, 1 + 64 + 5);
  });
}
