// Instances serve real calls, in both isolations, through createChannel; the plugin's hooks run
// in order with its options; stop drains calls in flight; a plugin that does not load or start
// fails start() with a clear message; instances do not outlive msfd.
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { createChannel } from "msf";
import { FlightServiceDefinition } from "../../examples/flight/gen/flight.server.js";
import { spawnScript } from "../helpers/child.js";
import { HostService } from "../fixtures/plugins/host-service.js";
import { alive, cpusAllowed, fixture, killQuietly, request, runDir, serviceConfig, supervise, waitFor } from "./host-helpers.js";

for (const isolation of ["worker", "process"] as const) {
  test(`${isolation}: two instances serve flight_service and test.host on their own sockets`, async (t) => {
    const config = serviceConfig({ name: "flight", instances: 2, isolation, options: { greeting: "hi" }, idempotentMethods: ["whoami"], cpus: [1, 0], env: { MSF_HOST_TEST: isolation } });
    const { supervisor, recorded, runDir } = supervise(t, config, { spare: false });
    await supervisor.start();
    t.is(supervisor.state, "running");
    const infos = supervisor.instances();
    t.deepEqual(
      infos.map((info) => [info.id, info.endpoint, info.state]),
      [
        ["flight#0.1", `unix:${runDir}/flight.0.1.sock`, "ready"],
        ["flight#1.1", `unix:${runDir}/flight.1.1.sock`, "ready"],
      ],
    );
    t.deepEqual(recorded.ups.map((up) => up.info.id), ["flight#0.1", "flight#1.1"]);
    const services = recorded.ups[0]!.services;
    t.deepEqual(services.map((service) => service.fullName), ["flight.flight_service", "test.host"]);
    const host = services[1]!.methods;
    t.deepEqual(host.find((method) => method.name === "whoami"), {
      name: "whoami",
      localName: "whoami",
      fullName: "test.host.whoami",
      id: HostService.methods.whoami.id,
      idempotent: true,
    });
    t.false(host.find((method) => method.name === "slow")!.idempotent);

    for (const info of infos) {
      const channel = createChannel(info.endpoint);
      t.teardown(() => channel.close());
      const flight = await channel.unary(FlightServiceDefinition.methods.queryFlight, { name: "bison", password: "123456", departureCity: "", destinationCity: "" });
      t.is(flight.errmsg, "success");
      const who = await channel.unary(HostService.methods.whoami, request("x"));
      t.is(who.flightsInfo, info.id);
      t.is(Number(who.errmsg), info.pid);
      t.true(info.threadId === undefined || info.threadId > 0);
      if (isolation === "worker") {
        t.is(info.pid, process.pid);
        t.is(who.errcode, info.threadId!);
      } else {
        t.not(info.pid, process.pid);
        t.true(alive(info.pid));
        t.is(info.threadId, undefined);
        // Pinned through taskset: instance i on cpus[i % cpus.length].
        t.is(cpusAllowed(info.pid), info.index === 0 ? "1" : "0");
      }
    }
    const warnings = recorded.logs.filter((line) => line.level === "warn" && /cpus is ignored/.test(line.message));
    if (isolation === "worker") t.regex(warnings[0]!.message, /service flight: cpus is ignored with isolation "worker" \(a thread cannot be pinned from Node\)/);
    t.is(warnings.length, isolation === "worker" ? 1 : 0);
    const pluginLogs = recorded.logs.filter((line) => (line.fields as { instance?: string } | undefined)?.instance === "flight#0.1");
    t.deepEqual(
      pluginLogs
        .filter((line) => ["init", "start"].includes(line.message))
        .map((line) => [line.message, (line.fields as { options?: unknown }).options, (line.fields as { env?: unknown }).env]),
      [
        ["init", { greeting: "hi" }, isolation],
        ["start", undefined, undefined],
      ],
    );

    // Stop is graceful: every instance is reported down first, then drains; a slow call in flight completes.
    const slowChannel = createChannel(infos[1]!.endpoint);
    t.teardown(() => slowChannel.close());
    // Connected first, so the slow call is surely running in the instance when stop() begins.
    await slowChannel.unary(HostService.methods.whoami, request("connect"));
    const slow = slowChannel.unary(HostService.methods.slow, request("in-flight", "800"), { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopped = supervisor.stop(3000);
    t.deepEqual(recorded.downs.map((down) => [down.info.id, down.info.state]).sort(), [
      ["flight#0.1", "draining"],
      ["flight#1.1", "draining"],
    ]);
    t.is((await slow).flightsInfo, "slow in-flight");
    await stopped;
    t.is(supervisor.state, "stopped");
    t.deepEqual(supervisor.instances(), []);
    const order = recorded.logs
      .filter((line) => (line.fields as { instance?: string } | undefined)?.instance === "flight#1.1")
      .map((line) => line.message)
      .filter((message) => ["init", "start", "stop", "deinit"].includes(message));
    t.deepEqual(order, ["init", "start", "stop", "deinit"]);
    if (isolation === "process") for (const info of infos) t.false(alive(info.pid));
  });
}

test("a module that is not a plugin: start() rejects naming the module and what it exports", async (t) => {
  const module = fixture("not-a-plugin.ts");
  const { supervisor, recorded } = supervise(t, serviceConfig({ name: "broken", module }), { spare: false });
  const error = await t.throwsAsync(supervisor.start());
  t.regex(error!.message, /^service broken did not start: broken#0\.1 failed to start: cannot load plugin .*not-a-plugin\.ts: expected a default export \(or an export named plugin\)/);
  t.true(error!.message.includes(module));
  t.regex(error!.message, /found only handlers \(an object\), helper \(a function\)/);
  t.is(supervisor.state, "failed");
  t.deepEqual(recorded.alerts.map((alert) => alert.kind), ["load_failed"]);
  t.deepEqual(recorded.ups, []);
});

test("a missing module (process): start() rejects naming the path", async (t) => {
  const module = fixture("no-such-plugin.js");
  const { supervisor } = supervise(t, serviceConfig({ name: "missing", module, isolation: "process" }), { spare: false });
  const error = await t.throwsAsync(supervisor.start());
  t.true(error!.message.startsWith(`service missing did not start: missing#0.1 failed to start: cannot load plugin ${module}: `), error!.message);
  t.is(supervisor.state, "failed");
});

test("init() throwing fails start(), and the other instances are stopped", async (t) => {
  const { supervisor, recorded } = supervise(
    t,
    serviceConfig({ name: "refuses", module: fixture("crashy-plugin.ts"), instances: 2, options: { failInit: true } }),
    { spare: false },
  );
  const error = await t.throwsAsync(supervisor.start());
  t.regex(error!.message, /refuses#\d\.1 failed to start: plugin .*crashy-plugin\.ts: init\(\) failed: init refused: failInit is set/);
  t.deepEqual(supervisor.instances().filter((info) => info.state === "ready" || info.state === "starting"), []);
  t.deepEqual(recorded.ups, []);
});

test("no orphans: when msfd dies (kill -9), its instance and spare processes exit", async (t) => {
  const dir = runDir(t);
  const parent = spawnScript(t, "test/fixtures/plugins/orphan-parent.ts", [dir]);
  const [, pid] = await parent.line(/^ready (\d+)$/, 30_000);
  // Its other children (esbuild's service, started by tsx) are not ours.
  const children = childrenOf(parent.process.pid!).filter((child) => commandLine(child).includes("instance-main"));
  t.teardown(() => children.forEach(killQuietly));
  t.true(children.includes(Number(pid)), `the instance ${pid} is among the children ${children.join(", ")}`);
  t.is(children.length, 2, "the instance and its spare");
  await parent.kill();
  await waitFor("every child of the dead parent to exit", () => children.every((child) => !alive(child)), 10_000, 20);
  t.pass();
});

/** Pids whose parent is `ppid` (from /proc/<pid>/stat). */
function childrenOf(ppid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 is the ppid; field 2 (the command) is in parentheses and may hold spaces.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === ppid) found.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
