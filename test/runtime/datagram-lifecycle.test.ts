// Connections over datagrams live and end like streams: CANCEL reaches the handler, GOAWAY drains
// the calls in flight before the server goes, a server that is gone makes calls fail UNAVAILABLE,
// and a server that restarted (it knows no connection from us) answers RESET, after which the
// channel reconnects by itself.
import test from "ava";
import { Code, createChannel } from "msf";
import { spawnScript } from "../helpers/child.js";
import { queryFlightMethod } from "../helpers/flight-service.js";
import { type Recorder, TestService, request, rpcError, startTestServer, waitFor } from "../helpers/runtime-fixtures.js";

const { echo, wait } = TestService.methods;

for (const [label, listen] of [
  ["udp", "udp://127.0.0.1:0"],
  ["netlink", "netlink://0"],
] as const) {
  test(`${label}: an aborted call reaches the handler as CANCEL`, async (t) => {
    const recorder: Recorder = { aborts: new Map(), ran: [] };
    const server = await startTestServer(t, [listen], {}, recorder);
    const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const controller = new AbortController();
    const call = channel.unary(wait, request("long", { departureCity: "5000" }), { signal: controller.signal });
    await waitFor(() => recorder.ran.includes("long"), 5000, "the handler to start");
    controller.abort();
    t.is((await rpcError(t, call)).code, Code.CANCELLED);
    await waitFor(() => recorder.aborts.has("long"), 5000, "the handler's abort");
    t.regex(String(recorder.aborts.get("long")), /cancelled by the client/);
    t.deepEqual(recorder.ran, ["long"]);
  });

  test(`${label}: closing the server drains the call in flight, then calls fail UNAVAILABLE`, async (t) => {
    const recorder: Recorder = { aborts: new Map(), ran: [] };
    const server = await startTestServer(t, [listen], {}, recorder);
    const address = server.addresses[0]!;
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    t.is((await channel.unary(echo, request("before"))).flightsInfo, "before");
    const running = channel.unary(wait, request("drained", { departureCity: "150" }));
    await waitFor(() => recorder.ran.includes("drained"), 5000, "the handler to start");
    const closed = server.close({ graceMs: 3000 });
    t.is((await running).flightsInfo, "waited drained");
    await closed;
    const after = await rpcError(t, channel.unary(echo, request("after")));
    t.is(after.code, Code.UNAVAILABLE);
    t.true(after.message.includes(address), after.message);
  });
}

test("udp: a server that restarted on the same port answers RESET; the call fails UNAVAILABLE and the next one reconnects", async (t) => {
  const first = spawnScript(t, "test/helpers/datagram-server-main.ts", ["udp://127.0.0.1:0"]);
  const address = (await first.line(/^listening (\S+)$/))[1]!;
  await first.line(/^ready$/);
  const channel = createChannel(address, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const flight = { name: "one", password: "", departureCity: "a", destinationCity: "b" };
  const firstPid = (await channel.unary(queryFlightMethod, flight)).errmsg;
  await first.kill();

  const second = spawnScript(t, "test/helpers/datagram-server-main.ts", [address]);
  await second.line(/^ready$/);
  const reset = await rpcError(t, channel.unary(queryFlightMethod, { ...flight, name: "two" }));
  t.is(reset.code, Code.UNAVAILABLE);
  t.regex(reset.message, /reset the connection: the server has no connection from this client/);
  const again = await channel.unary(queryFlightMethod, { ...flight, name: "three" });
  t.regex(again.errmsg, /^pid \d+$/);
  t.not(again.errmsg, firstPid, "answered by the new server");
});
