// The pure parts of the host: restart backoff and crash-loop counting, memory threshold
// crossings, plugin shape checks and loading, and reading RSS from /proc.
import test from "ava";
import { backoffMs, countInWindow, RestartTracker } from "../../runtime/daemon/host/restart-policy.js";
import { MemoryWatch } from "../../runtime/daemon/host/memory-watch.js";
import { pageSize, readRssBytes } from "../../runtime/daemon/host/memory-sampler.js";
import { checkPlugin, loadPlugin, PluginLoadError, servedServices } from "../../runtime/daemon/host/plugin.js";
import { cpuFor } from "../../runtime/daemon/host/cpu-pinning.js";
import { HostService } from "../fixtures/plugins/host-service.js";
import { fixture } from "./host-helpers.js";

const policy = { maxRestarts: 4, windowMs: 10_000, backoffInitialMs: 100, backoffMaxMs: 500, stopTimeoutMs: 1000 };

test("backoff: immediate with no recent restart, then doubling from the initial delay up to the cap", (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 60].map((recent) => backoffMs(policy, recent)), [0, 100, 200, 400, 500, 500, 500]);
});

test("window counting keeps only the restarts within the window", (t) => {
  t.is(countInWindow([1000, 5000, 9000], 11_000, 10_000), 2);
  t.is(countInWindow([1000, 5000, 9000], 9000, 10_000), 3);
  t.is(countInWindow([], 9000, 10_000), 0);
});

test("RestartTracker: backs off within the window, gives up past max_restarts, forgets after a clean window", (t) => {
  const tracker = new RestartTracker(policy);
  t.deepEqual(tracker.decide(0), { t: "restart", delayMs: 0, recent: 0 });
  t.deepEqual(tracker.decide(50), { t: "restart", delayMs: 100, recent: 1 });
  t.deepEqual(tracker.decide(300), { t: "restart", delayMs: 200, recent: 2 });
  t.deepEqual(tracker.decide(700), { t: "restart", delayMs: 400, recent: 3 });
  t.deepEqual(tracker.decide(1200), { t: "give_up", recent: 4 });
  // Stayed up for a whole window since the last restart: the first restart is immediate again.
  t.deepEqual(tracker.decide(20_000), { t: "restart", delayMs: 0, recent: 0 });
  t.is(tracker.recent(20_001), 1);
});

test("RestartTracker with max_restarts 0 never restarts", (t) => {
  t.deepEqual(new RestartTracker({ ...policy, maxRestarts: 0 }).decide(0), { t: "give_up", recent: 0 });
});

test("MemoryWatch: one alert per crossing (re-armed below 90%), one restart", (t) => {
  const watch = new MemoryWatch({ alertBytes: 1000, restartBytes: 2000, sampleMs: 100 });
  const samples = [500, 1000, 1500, 950, 1200, 850, 1100, 2500, 3000, 100, 2500].map((bytes) => watch.sample(bytes));
  t.deepEqual(samples.map((crossing) => crossing.alert), [false, true, false, false, false, false, true, false, false, false, true]);
  t.deepEqual(samples.map((crossing) => crossing.restart), [false, false, false, false, false, false, false, true, false, false, false]);
  const none = new MemoryWatch({ alertBytes: undefined, restartBytes: undefined, sampleMs: 100 });
  t.deepEqual(none.sample(Number.MAX_SAFE_INTEGER), { alert: false, restart: false });
});

test("RSS from /proc/<pid>/statm matches what node reports for itself", async (t) => {
  t.true([4096, 16384, 65536].includes(pageSize()), `page size ${pageSize()}`);
  const rss = await readRssBytes(process.pid);
  const own = process.memoryUsage.rss();
  t.true(rss !== undefined && Math.abs(rss - own) < 16 * 1048576, `statm ${rss}, node ${own}`);
  t.is(await readRssBytes(2 ** 22 + 12345), undefined, "no such process");
});

test("cpuFor spreads instances over the listed cpus", (t) => {
  t.deepEqual([0, 1, 2, 3].map((index) => cpuFor([2, 5], index)), [2, 5, 2, 5]);
  t.is(cpuFor(undefined, 0), undefined);
  t.is(cpuFor([], 1), undefined);
});

test("checkPlugin names what is wrong", (t) => {
  const service = { definition: HostService, handlers: {} };
  t.is(checkPlugin({ services: [service] }), undefined);
  t.is(checkPlugin(null), "is null");
  t.is(checkPlugin(42), "is the number 42");
  t.is(checkPlugin({}), "has services = undefined, not an array");
  t.is(checkPlugin({ services: [] }), "has an empty services array");
  t.is(checkPlugin({ services: [{ handlers: {} }] }), "has services[0] .definition = undefined, not a generated ServiceDefinition");
  t.is(checkPlugin({ services: [{ definition: { name: "x" }, handlers: {} }] }), "has services[0] .definition is not a generated ServiceDefinition (it needs fullName and methods)");
  t.is(checkPlugin({ services: [{ definition: HostService }] }), "has services[0] .handlers = undefined, not an object of functions");
  t.is(checkPlugin({ services: [service], start: "now" }), 'has start = the string "now", not a function');
});

test("loadPlugin: the default export, or a clear error naming the module", async (t) => {
  const plugin = await loadPlugin(fixture("echo-plugin.ts"));
  t.deepEqual(plugin.services.map((service) => service.definition.fullName), ["flight.flight_service", "test.host"]);
  const served = servedServices(plugin, ["queryFlight", "test.host.slow"]);
  t.deepEqual(
    served.flatMap((service) => service.methods.filter((method) => method.idempotent).map((method) => method.fullName)),
    ["flight.flight_service.queryFlight", "test.host.slow"],
  );

  const named = await loadPlugin(fixture("named-export-plugin.ts"));
  t.deepEqual(named.services.map((service) => service.definition.fullName), ["test.host"]);

  const notPlugin = fixture("not-a-plugin.ts");
  const error = await t.throwsAsync(loadPlugin(notPlugin), { instanceOf: PluginLoadError });
  t.is(
    error!.message,
    `cannot load plugin ${notPlugin}: expected a default export (or an export named plugin) of the shape { services: [{ definition, handlers }], init?, start?, stop?, deinit? }; found only handlers (an object), helper (a function)`,
  );
  const missing = fixture("missing.js");
  const missingError = await t.throwsAsync(loadPlugin(missing), { instanceOf: PluginLoadError });
  t.true(missingError!.message.startsWith(`cannot load plugin ${missing}: `));
});
