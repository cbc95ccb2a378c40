// msf_procs: plain executables run as `proc_path ...args -c proc_conf`, restarted when they die
// (kill -9), given up on in a crash loop, stopped with SIGTERM then SIGKILL, restarted by RSS.
import test, { type ExecutionContext } from "ava";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcConfig } from "../../runtime/daemon/config/config-types.js";
import type { Alert } from "../../runtime/daemon/host/host-types.js";
import { procArguments } from "../../runtime/daemon/host/proc-process.js";
import { ProcSupervisor, type ProcInfo } from "../../runtime/daemon/host/proc-supervisor.js";
import { alive, fixture, killQuietly, procConfig, recordingLog, runDir, waitFor, type Recorded } from "./host-helpers.js";

const MiB = 1048576;

interface ProcEvent {
  event: "start" | "term";
  pid: number;
  argv?: string[];
}

function superviseProc(t: ExecutionContext, fields: Parameters<typeof procConfig>[0]) {
  const dir = runDir(t);
  const logFile = join(dir, "proc.log");
  const config: ProcConfig = procConfig({ ...fields, env: { PROC_LOG: logFile } });
  const logs: Recorded["logs"] = [];
  const supervisor = new ProcSupervisor(config, { log: recordingLog(logs) });
  const ups: ProcInfo[] = [];
  const downs: ProcInfo[] = [];
  const alerts: Alert[] = [];
  supervisor.on("up", (info) => ups.push(info));
  supervisor.on("down", (info) => downs.push(info));
  supervisor.on("alert", (alert) => alerts.push(alert));
  const events = (): ProcEvent[] =>
    existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as ProcEvent) : [];
  t.teardown(async () => {
    await supervisor.stop(200);
    for (const event of events()) killQuietly(event.pid);
    if (!t.passed) for (const line of logs) t.log(`[${line.level}] ${line.message} ${JSON.stringify(line.fields)}`);
  });
  return { supervisor, config, ups, downs, alerts, events, logs };
}

test("runs proc_path with args and -c proc_conf, restarts it at once after kill -9, stops it with SIGTERM", async (t) => {
  const { supervisor, config, ups, downs, alerts, events } = superviseProc(t, { conf: "/etc/legacy.json", args: [fixture("proc-script.mjs"), "--flag"] });
  t.deepEqual(procArguments(config), [fixture("proc-script.mjs"), "--flag", "-c", "/etc/legacy.json"]);
  await supervisor.start();
  await waitFor("the first start", () => events().length === 1);
  const [first] = events();
  t.deepEqual(first!.argv, ["--flag", "-c", "/etc/legacy.json"]);
  t.like(supervisor.info(), { name: "legacy", state: "running", pid: first!.pid, restarts: 0 });
  t.is(ups.length, 1);

  const killedAt = performance.now();
  process.kill(first!.pid, "SIGKILL");
  await waitFor("the restart", () => events().filter((event) => event.event === "start").length === 2, 10_000, 5);
  t.log(`kill -9 → restarted process running: ${(performance.now() - killedAt).toFixed(1)} ms`);
  const second = events()[1]!;
  t.not(second.pid, first!.pid);
  t.like(supervisor.info(), { state: "running", pid: second.pid, restarts: 1, lastExit: "killed by SIGKILL" });
  t.deepEqual(alerts.map((alert) => [alert.kind, alert.source, alert.value]), [["restart", "legacy", 0]]);
  t.is(downs.length, 1);
  t.is(ups.length, 2);

  await supervisor.stop();
  t.is(supervisor.state, "stopped");
  t.deepEqual(events().slice(2), [{ event: "term", pid: second.pid }]);
  t.false(alive(second.pid));
  t.like(supervisor.info(), { pid: 0, lastExit: "exited with code 0" });
});

test("a proc that keeps exiting backs off, then fails with a crash_loop alert", async (t) => {
  const { supervisor, alerts, events } = superviseProc(t, {
    args: [fixture("proc-script.mjs"), "--exit-after", "30"],
    restart: { maxRestarts: 2, windowMs: 60_000, backoffInitialMs: 150, backoffMaxMs: 1000 },
  });
  await supervisor.start();
  await waitFor("the crash_loop alert", () => alerts.some((alert) => alert.kind === "crash_loop"));
  t.deepEqual(alerts.map((alert) => [alert.kind, alert.value]), [
    ["restart", 0],
    ["restart", 150],
    ["crash_loop", 2],
  ]);
  // The second restart waited its 150 ms backoff: the third exit came at least that long after the second.
  t.true(alerts[2]!.at - alerts[1]!.at >= 150, `${alerts[2]!.at - alerts[1]!.at} ms between the second exit and the third`);
  t.regex(alerts[2]!.message, /msf_procs legacy \(pid \d+\) exited with code 3; 2 restarts within 60000 ms already \(max_restarts 2\): not restarted again/);
  t.is(supervisor.state, "failed");
  t.is(events().length, 3);
  t.is(supervisor.info().pid, 0);
});

test("stop: SIGTERM, then SIGKILL after stop_timeout_ms when it is ignored", async (t) => {
  const { supervisor, events } = superviseProc(t, { args: [fixture("proc-script.mjs"), "--ignore-term"], restart: { stopTimeoutMs: 300 } });
  await supervisor.start();
  await waitFor("the start", () => events().length === 1);
  const { pid } = events()[0]!;
  const startedStop = performance.now();
  await supervisor.stop();
  t.true(performance.now() - startedStop >= 290, "it was given stop_timeout_ms");
  t.deepEqual(events().map((event) => event.event), ["start", "term"]);
  t.false(alive(pid));
  t.is(supervisor.info().lastExit, "killed by SIGKILL");
});

test("memory: RSS past alert_mb alerts once, past restart_mb the proc is restarted", async (t) => {
  const alertBytes = 150 * MiB;
  const restartBytes = 250 * MiB;
  const { supervisor, alerts, events } = superviseProc(t, {
    args: [fixture("proc-script.mjs"), "--allocate", "300"],
    memory: { alertBytes, restartBytes, sampleMs: 50 },
  });
  await supervisor.start();
  await waitFor("the memory restart", () => events().some((event) => event.event === "term"));
  await waitFor("the new process", () => events().filter((event) => event.event === "start").length >= 2);
  const memory = alerts.filter((alert) => alert.kind === "memory");
  t.true(memory.length >= 2);
  t.like(memory[0], { source: "legacy", threshold: alertBytes });
  t.true(memory[0]!.value! >= alertBytes);
  t.like(memory[1], { source: "legacy", threshold: restartBytes });
  t.regex(memory[1]!.message, /msf_procs legacy \(pid \d+\) uses [\d.]+ MiB of RSS, over restart_mb \(250\.0 MiB\): restarting it/);
  t.false(alerts.some((alert) => alert.kind === "restart" || alert.kind === "crash_loop"), "a memory restart is not a crash");
  t.is(supervisor.info().restarts >= 1, true);
});

test("a proc_path that does not exist: start() rejects and the proc is failed", async (t) => {
  const { supervisor, alerts } = superviseProc(t, { name: "ghost", path: "/nonexistent/legacy-daemon", args: [] });
  const error = await t.throwsAsync(supervisor.start());
  t.regex(error!.message, /^msf_procs ghost: cannot run \/nonexistent\/legacy-daemon: spawn \/nonexistent\/legacy-daemon ENOENT/);
  t.is(supervisor.state, "failed");
  t.deepEqual(alerts.map((alert) => alert.kind), ["load_failed"]);
});
