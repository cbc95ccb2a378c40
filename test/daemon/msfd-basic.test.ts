// msfd as a real process: a seed-format config loads and serves, the control socket requires
// credentials, a bad config stops msfd at start with a precise error, and load/unload work.
import test from "ava";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, createChannel, RpcError } from "msf";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { ControlClient } from "../../runtime/daemon/gen/control.client.js";
import { daemonDir, flightPlugin, spawnMsfd, startMsfd } from "./msfd-harness.js";

const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

test("a config in the seed's format loads as it is, and its service answers through the broker", async (t) => {
  const msfd = await startMsfd(t, {
    proc_name: "flight_proc",
    proc_author: "msf",
    proc_version: "beta v1.0",
    proc_desc: "flight service config in the seed's format",
    proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin }],
  });
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 5000 }));
  const reply = await client.queryFlight(bison);
  t.is(reply.errmsg, "success");
  t.is(client.queryFlightSync(bison, { timeoutMs: 5000 }).errmsg, "success");

  const status = await msfd.controlClient().status({});
  t.is(status.procName, "flight_proc");
  t.is(status.procVersion, "beta v1.0");
  const service = status.services.find((entry) => entry.name === "flight_service");
  t.truthy(service);
  t.is(service!.state, "running");
  t.is(service!.isolation, "worker");
  t.is(service!.instances.filter((instance) => instance.state === "ready").length, 1);
  t.deepEqual(service!.methods.map((method) => method.fullName), ["flight.flight_service.queryFlight"]);
  t.true(service!.calls >= 2n, `calls counted: ${service!.calls}`);
});

test("the control socket refuses a peer without credentials", async (t) => {
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin }] });
  const anonymous = createChannel(msfd.control, { timeoutMs: 3000 });
  t.teardown(() => anonymous.close());
  const error = await t.throwsAsync(new ControlClient(anonymous).status({}), { instanceOf: RpcError });
  t.not(error!.code, Code.OK);
  const wrong = createChannel(msfd.control, { timeoutMs: 3000, auth: { name: "msf", secret: "not the cookie" } });
  t.teardown(() => wrong.close());
  const refused = await t.throwsAsync(new ControlClient(wrong).status({}), { instanceOf: RpcError });
  t.is(refused!.code, Code.UNAUTHENTICATED);
});

test("an invalid config stops msfd at start: exit 1 and an error naming the field", async (t) => {
  const dir = daemonDir(t);
  const file = join(dir, "msf.json");
  writeFileSync(join(dir, "flight_service.impl.ts"), "export default { services: [] };\n");
  writeFileSync(file, JSON.stringify({ proc_name: "p", proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, instances: "two" }] }));
  const child = spawnMsfd(file);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  t.is(code, 1);
  t.regex(stderr, /proc_svcs\[0\]\.instances/);
  t.regex(stderr, /"two"/);
});

test("unload stops a service's instances and load brings them back", async (t) => {
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, isolation: "process" }] });
  const control = msfd.controlClient();
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 3000 }));
  t.is((await client.queryFlight(bison)).errmsg, "success");
  const before = (await control.status({})).services[0]!.instances.map((instance) => instance.pid);

  const unloaded = await control.unload({ service: "flight_service" });
  t.is(unloaded.state, "unloaded");
  const afterUnload = (await control.status({})).services[0]!;
  t.is(afterUnload.state, "unloaded");
  t.is(afterUnload.instances.length, 0);
  for (const pid of before) t.throws(() => process.kill(pid, 0), undefined, `process ${pid} is gone`);
  const error = await t.throwsAsync(client.queryFlight(bison), { instanceOf: RpcError });
  t.is(error!.code, Code.UNAVAILABLE);
  t.regex(error!.message, /flight_service/);

  const loaded = await control.load({ service: "flight_service" });
  t.is(loaded.state, "running");
  t.is((await client.queryFlight(bison)).errmsg, "success");
  const unknown = await t.throwsAsync(control.load({ service: "nope" }), { instanceOf: RpcError });
  t.is(unknown!.code, Code.NOT_FOUND);
});
