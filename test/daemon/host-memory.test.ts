// Memory: crossing alert_mb raises one alert per crossing; crossing restart_mb starts a
// replacement, reports it up, then the old one down and drains it, while a client keeps calling:
// no call fails. Workers are measured by the heap they report, processes by their RSS.
import test from "ava";
import { HostService } from "../fixtures/plugins/host-service.js";
import { EventRouter, request, serviceConfig, sleep, SteadyLoad, supervise, waitFor } from "./host-helpers.js";

const MiB = 1048576;

for (const isolation of ["worker", "process"] as const) {
  // Well above the instance's own footprint (a worker's heap: ~20 MiB; a process run from source under tsx: ~100 MiB of RSS).
  const alertBytes = (isolation === "worker" ? 100 : 250) * MiB;
  const restartBytes = alertBytes + 150 * MiB;

  test(`${isolation}: memory alert once per crossing, then a drain-restart past restart_mb with no failed call`, async (t) => {
    const { supervisor, recorded } = supervise(
      t,
      serviceConfig({ name: "hungry", isolation, memory: { alertBytes, restartBytes, sampleMs: 100 } }),
      { spare: false },
    );
    await supervisor.start();
    const router = new EventRouter(t, supervisor);
    const load = new SteadyLoad(() => router.call(HostService.methods.whoami, request("load")));
    t.teardown(() => load.stop());

    await waitFor("a memory sample", () => supervisor.instances()[0]!.memoryBytes > 0);
    const footprint = supervisor.instances()[0]!.memoryBytes;
    t.log(`footprint before allocating: ${(footprint / MiB).toFixed(1)} MiB`);
    t.true(footprint < alertBytes - 20 * MiB, "the thresholds leave room above the instance's own footprint");
    // Past alert_mb by 20 MiB, short of restart_mb.
    const first = await router.call(HostService.methods.allocate, request(String(Math.ceil((alertBytes - footprint) / MiB) + 20)));
    t.is(first.errmsg, "hungry#0.1");
    await waitFor("the memory alert", () => recorded.alerts.some((alert) => alert.kind === "memory"));
    const [info] = supervisor.instances();
    t.true(info!.memoryBytes >= alertBytes, `memoryBytes ${info!.memoryBytes}`);
    if (isolation === "process") t.is(info!.rssBytes, info!.memoryBytes);
    else t.is(info!.heapBytes, info!.memoryBytes);
    await sleep(400);
    const memoryAlerts = recorded.alerts.filter((alert) => alert.kind === "memory");
    t.is(memoryAlerts.length, 1, "one alert per crossing, not one per sample");
    t.like(memoryAlerts[0], { source: "hungry#0.1", threshold: alertBytes });
    t.regex(memoryAlerts[0]!.message, new RegExp(`hungry#0\\.1 uses [\\d.]+ MiB of ${isolation === "process" ? "RSS" : "heap"}, over alert_mb \\(${alertBytes / MiB}\\.0 MiB\\)`));
    t.deepEqual(recorded.ups.map((up) => up.info.id), ["hungry#0.1"]);

    await router.call(HostService.methods.allocate, request("150"));
    await waitFor("the replacement up and the old instance gone", () => {
      const ids = supervisor.instances().map((instance) => instance.id);
      return ids.length === 1 && ids[0] === "hungry#0.2";
    }, 30_000);
    await sleep(100);
    await load.stop();

    t.deepEqual(load.failures, [], "no call failed during the replacement");
    t.true(load.ok > 20, `calls made: ${load.ok}`);
    const restartAlert = recorded.alerts.find((alert) => alert.kind === "memory" && alert.threshold === restartBytes);
    t.truthy(restartAlert);
    t.regex(restartAlert!.message, /over restart_mb .*: replacing it/);
    const up = recorded.ups.find((entry) => entry.info.id === "hungry#0.2")!;
    const down = recorded.downs.find((entry) => entry.info.id === "hungry#0.1")!;
    t.true(up.at <= down.at, "the replacement is up before the old one goes down");
    t.is(down.info.state, "draining");
    t.like(supervisor.instances()[0], { state: "ready", restarts: 1 });
    t.is((await router.call(HostService.methods.whoami, request("after"))).flightsInfo, "hungry#0.2");
  });
}
