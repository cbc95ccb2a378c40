// Routing by name through a real msfd: calls spread over a service's instances by its strategy
// (counted per instance by msfd, shown by status).
import test from "ava";
import { Code, RpcError } from "msf";
import { connectService } from "msf/daemon";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd } from "./msfd-harness.js";

const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

test("round_robin spreads calls evenly over three instances", async (t) => {
  const msfd = await startMsfd(t, {
    proc_name: "p",
    proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, instances: 3, balance: { strategy: "round_robin" } }],
  });
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 5000 }));
  // One at a time: with calls in sequence, round robin is exact.
  for (let index = 0; index < 300; index++) t.is((await client.queryFlight(bison)).errmsg, "success");
  const service = (await msfd.controlClient().status({})).services[0]!;
  t.is(service.strategy, "round_robin");
  t.deepEqual(service.instances.map((instance) => Number(instance.calls)), [100, 100, 100]);
});

test("consistent_hash sends every call with the same metadata key to the same instance", async (t) => {
  const msfd = await startMsfd(t, {
    proc_name: "p",
    proc_svcs: [
      { svc_name: "flight_service", svc_libs: flightPlugin, instances: 3, balance: { strategy: "consistent_hash", hash_key: "metadata:user" } },
    ],
  });
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 5000 }));
  const control = msfd.controlClient();
  const callsPerInstance = async (): Promise<number[]> =>
    (await control.status({})).services[0]!.instances.map((instance) => Number(instance.calls));
  const users = ["alice", "bob", "carol", "dave", "erin", "frank"];
  const homes = new Map<string, number>();
  for (const user of users) {
    const before = await callsPerInstance();
    for (let index = 0; index < 20; index++) await client.queryFlight(bison, { metadata: { user } });
    const after = await callsPerInstance();
    const grew = after.map((calls, index) => calls - before[index]!);
    // All 20 calls of this user went to one instance.
    t.deepEqual([...grew].sort((a, b) => a - b), [0, 0, 20], `${user}: ${JSON.stringify(grew)}`);
    homes.set(user, grew.indexOf(20));
  }
  t.true(new Set(homes.values()).size >= 2, `six users are spread over more than one instance: ${JSON.stringify([...homes])}`);
});

test("by name, brokered and direct: both reach the service; direct calls bypass msfd", async (t) => {
  const msfd = await startMsfd(t, {
    proc_name: "p",
    proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, instances: 2 }],
  });
  const brokered = await connectService("flight_service", { config: msfd.configFile, mode: "brokered", timeoutMs: 5000 });
  const direct = await connectService("flight_service", { config: msfd.configFile, mode: "direct", timeoutMs: 5000 });
  t.teardown(() => Promise.all([brokered.close(), direct.close()]));
  for (let index = 0; index < 10; index++) t.is((await new FlightServiceClient(brokered).queryFlight(bison)).errmsg, "success");
  for (let index = 0; index < 10; index++) t.is((await new FlightServiceClient(direct).queryFlight(bison)).errmsg, "success");
  t.is(new FlightServiceClient(direct).queryFlightSync(bison, { timeoutMs: 5000 }).errmsg, "success");
  // msfd counts the calls it forwarded: the brokered ten, none of the direct ones.
  const service = (await msfd.controlClient().status({})).services[0]!;
  t.is(service.instances.reduce((sum, instance) => sum + Number(instance.calls), 0), 10);
  const missing = await t.throwsAsync(connectService("no_such_service", { config: msfd.configFile, mode: "direct" }), { instanceOf: RpcError });
  t.is(missing!.code, Code.NOT_FOUND);
});
