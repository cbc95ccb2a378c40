// Hot reload through a real msfd: a config change is applied under steady load with zero failed
// calls; an invalid config at reload is refused and the running one keeps serving.
import test from "ava";
import { Code, RpcError } from "msf";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd } from "./msfd-harness.js";

const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

/** Runs `concurrency` call loops until stop() is called; counts successes and keeps every failure. */
function steadyLoad(client: FlightServiceClient, concurrency: number) {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    // Bounded by stop(), which every test calls within seconds; and by a hard cap of 200 000 calls.
    while (running && ok < 200_000) {
      try {
        const reply = await client.queryFlight(bison, { timeoutMs: 5000 });
        if (reply.errmsg === "success") ok++;
        else failures.push(`unexpected reply ${reply.errmsg}`);
      } catch (error) {
        failures.push(String(error));
      }
    }
  });
  return {
    get ok() {
      return ok;
    },
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

for (const isolation of ["worker", "process"] as const) {
  test(`a reload that changes a ${isolation} service under steady load fails no call`, async (t) => {
    const service = { svc_name: "flight_service", svc_libs: flightPlugin, isolation, instances: 1 };
    const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [service] }, { args: ["--no-watch"] });
    const control = msfd.controlClient();
    const client = new FlightServiceClient(msfd.broker());
    const original = (await control.status({})).services[0]!.instances.map((instance) => instance.id);
    const load = steadyLoad(client, 8);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = load.ok;
    msfd.writeConfig({ proc_name: "p", proc_svcs: [{ ...service, instances: 2, svc_conf: { version: 2 } }] });
    const reply = await control.reload({ service: "" });
    t.deepEqual(reply.changed, ["flight_service"]);
    t.is(reply.configGeneration, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await load.stop();
    t.deepEqual(load.failures, []);
    t.true(load.ok > before, `calls kept succeeding during the reload (${before} before, ${load.ok} in all)`);
    const status = await control.status({});
    const ready = status.services[0]!.instances.filter((instance) => instance.state === "ready");
    t.is(ready.length, 2);
    // The instance that served before the reload was replaced by one of the new config.
    t.true(ready.every((instance) => !original.includes(instance.id)), `${JSON.stringify(original)} → ${JSON.stringify(ready.map((instance) => instance.id))}`);
  });
}

test("an invalid config at reload is refused with its problems, and the running config keeps serving", async (t) => {
  const service = { svc_name: "flight_service", svc_libs: flightPlugin };
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [service] }, { args: ["--no-watch"] });
  const control = msfd.controlClient();
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 3000 }));
  msfd.writeConfig({ proc_name: "p", proc_svcs: [{ ...service, instances: -1 }] });
  const error = await t.throwsAsync(control.reload({ service: "" }), { instanceOf: RpcError });
  t.is(error!.code, Code.FAILED_PRECONDITION);
  t.regex(error!.message, /proc_svcs\[0\]\.instances/);
  t.regex(error!.message, /running config is kept/);
  t.is((await client.queryFlight(bison)).errmsg, "success");
  t.is((await control.status({})).configGeneration, 1);
});

test("a config file write is picked up without a command (watch), and SIGHUP reloads too", async (t) => {
  const service = { svc_name: "flight_service", svc_libs: flightPlugin };
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [service] });
  const control = msfd.controlClient();
  msfd.writeConfig({ proc_name: "p", proc_svcs: [service, { svc_name: "second_flight", svc_libs: flightPlugin }] });
  await msfd.waitLog((record) => record.msg === "config reloaded");
  const names = (await control.status({})).services.map((entry) => entry.name).sort();
  t.deepEqual(names, ["flight_service", "second_flight"]);
  msfd.process.kill("SIGHUP");
  await msfd.waitLog((record) => record.msg === "reloading the config" && record.why === "SIGHUP");
  t.is((await control.status({})).services.length, 2);
});
