// `tsx bench/daemon/run.ts`: what msfd costs. Each round starts a fresh msfd in its own process
// (one flight_service instance, isolation "process": msfd-process.ts says why) and measures, each
// from a fresh client process:
//   calls by name, at 1 and 64 in flight, the flight workload of bench/workload.ts:
//     direct by URI  (createChannel to the instance's endpoint: the baseline),
//     direct by name (connectService direct: endpoints resolved from msfd, then no hop),
//     brokered       (every call through msfd's broker);
//   events: one publisher process → msfd → one subscriber process over unix, 1 KB payloads.
// Rows interleave as bench/run.ts's do (each round in a rotated order); the tables show medians
// over the rounds and ratios to "direct by URI". Every process runs compiled (msfd and msf from
// dist/, rebuilt first when stale), or with --source through tsx (compiled.ts says why the
// difference matters). Every child (msfd, its instance and spare, the clients)
// is killed and the temp dir removed at the end, on failure and on SIGINT/SIGTERM too.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseResult } from "../child-protocol.js";
import {
  callKey,
  checkDaemonTargets,
  formatCallTable,
  formatEventTable,
  formatTargets,
  IN_FLIGHT_LEVELS,
  summarizeCalls,
  summarizeEvents,
  type CallMeasurement,
  type EventMeasurement,
} from "./daemon-report.js";
import { CpuWindow } from "./cpu-time.js";
import { EVENT_QUEUE_LIMIT, ISOLATION, startMsfd, type MsfdInstance } from "./msfd-process.js";
import { parseDaemonOptions, type DaemonBenchOptions } from "./options.js";
import { compiledDaemonLauncher, sourceDaemonLauncher, type DaemonLauncher } from "./compiled.js";
import { BenchProcess, killAllProcesses } from "./processes.js";
import {
  CALL_ROUTES,
  callClientArgv,
  eventArgv,
  EVENTS,
  GO,
  parseEventRate,
  RESULT,
  ROUTE_LABELS,
  STOP,
  SUBSCRIBED,
  WINDOW,
  type CallRoute,
} from "./protocol.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const EVENT_PAYLOAD_BYTES = 1024;
const EVENT_TOPIC = "bench.events";
/** A child's start: node, tsx, msf's sources, connecting. */
const START_TIMEOUT_MS = 30_000;
/** Beyond warm-up + duration: the last calls or events, printing the result. */
const RESULT_GRACE_MS = 30_000;
/** A client exits by itself after its result (writing its --cpu-prof profile); killed after this. */
const EXIT_WAIT_MS = 5000;

const log = (line: string): void => void process.stderr.write(`bench daemon: ${line}\n`);

/** How children start (compiled or from source), set once in main(). */
let launcher: DaemonLauncher;

/** node's arguments for a child named `name`: the launcher's, and with --cpu-prof, its profile in its own directory. */
function nodeArgsFor(options: DaemonBenchOptions, name: string): string[] {
  if (options.cpuProfDir === undefined) return [...launcher.nodeArgs];
  return [...launcher.nodeArgs, "--cpu-prof", `--cpu-prof-dir=${join(resolve(options.cpuProfDir), name)}`];
}

function rotated<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function measureCalls(msfd: MsfdInstance, route: CallRoute, inFlight: number, options: DaemonBenchOptions, round: number): Promise<CallMeasurement> {
  const warmupMs = Math.round(options.warmupS * 1000);
  const durationMs = Math.round(options.durationS * 1000);
  const target = route === "uri" ? msfd.instanceEndpoint : msfd.configFile;
  const client = new BenchProcess(
    `client (${ROUTE_LABELS[route]}, ${inFlight} in flight)`,
    launcher.script("call-client-main"),
    callClientArgv({ route, target, inFlight, warmupMs, durationMs }),
    { cwd: launcher.cwd, nodeArgs: nodeArgsFor(options, `round-${round}-${route}-${inFlight}`) },
  );
  try {
    const cpu = new CpuWindow({ client: client.process.pid ?? 0, msfd: msfd.pid, instance: msfd.instancePid });
    await client.expect(WINDOW, START_TIMEOUT_MS + warmupMs);
    cpu.open();
    const result = parseResult(await client.expect(RESULT, durationMs + RESULT_GRACE_MS));
    const used = cpu.close();
    await client.exited(EXIT_WAIT_MS);
    return { ...result, cpu: used };
  } finally {
    await client.stop();
  }
}

async function measureEvents(msfd: MsfdInstance, options: DaemonBenchOptions, round: number): Promise<EventMeasurement> {
  const warmupMs = Math.round(options.warmupS * 1000);
  const durationMs = Math.round(options.durationS * 1000);
  const args = eventArgv({ broker: msfd.broker, topic: EVENT_TOPIC, payloadBytes: EVENT_PAYLOAD_BYTES, batch: options.eventBatch, warmupMs, durationMs });
  // Both load their code at once; the publisher waits for `go`.
  const subscriber = new BenchProcess("event subscriber", launcher.script("event-subscriber-main"), args, {
    cwd: launcher.cwd,
    nodeArgs: nodeArgsFor(options, `round-${round}-subscriber`),
  });
  const publisher = new BenchProcess("event publisher", launcher.script("event-publisher-main"), args, {
    cwd: launcher.cwd,
    nodeArgs: nodeArgsFor(options, `round-${round}-publisher`),
  });
  try {
    await subscriber.expect(SUBSCRIBED, START_TIMEOUT_MS);
    publisher.send(GO);
    const cpu = new CpuWindow({ publisher: publisher.process.pid ?? 0, msfd: msfd.pid, subscriber: subscriber.process.pid ?? 0 });
    await subscriber.expect(WINDOW, START_TIMEOUT_MS + warmupMs);
    cpu.open();
    const received = parseEventRate(await subscriber.expect(EVENTS, durationMs + RESULT_GRACE_MS));
    const used = cpu.close();
    publisher.send(STOP);
    const published = parseEventRate(await publisher.expect(EVENTS, RESULT_GRACE_MS));
    await Promise.all([subscriber.exited(EXIT_WAIT_MS), publisher.exited(EXIT_WAIT_MS)]);
    return { subscriber: received, publisher: published, cpu: used };
  } finally {
    await Promise.all([publisher.stop(), subscriber.stop()]);
  }
}

async function main(): Promise<void> {
  const options = parseDaemonOptions(process.argv.slice(2));
  const workDir = mkdtempSync(join(tmpdir(), "msf-bench-daemon-"));
  const cleanUp = (): void => {
    killAllProcesses();
    // A process just killed may still be finishing a write into the directory: retry a little.
    try {
      rmSync(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      log(`could not remove ${workDir}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  process.once("exit", cleanUp);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanUp();
      process.exit(130);
    });
  }
  launcher = options.source ? sourceDaemonLauncher(repoRoot) : await compiledDaemonLauncher(repoRoot, workDir, log);
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(
    `${options.rounds} round(s) of ${options.parts.join(" + ")}, ${options.warmupS} s warm-up + ${options.durationS} s per row, ` +
      `${runsFrom(options)}${options.cpuProfDir === undefined ? "" : `, CPU profiles of every process in ${resolve(options.cpuProfDir)}/round-<n>-<process>/`}`,
  );

  const calls = new Map<string, CallMeasurement[]>();
  const events: EventMeasurement[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const msfd = await startMsfd({ launcher, dir: join(workDir, `round-${round}`), nodeArgs: nodeArgsFor(options, `round-${round}-msfd`) });
    log(`round ${round}/${options.rounds}: msfd ${msfd.pid} ready, broker ${msfd.broker}, instance ${msfd.instanceEndpoint}`);
    try {
      if (options.parts.includes("calls")) {
        for (const inFlight of IN_FLIGHT_LEVELS) {
          for (const route of rotated(CALL_ROUTES, round - 1)) {
            const result = await measureCalls(msfd, route, inFlight, options, round);
            const list = calls.get(callKey(route, inFlight)) ?? [];
            list.push(result);
            calls.set(callKey(route, inFlight), list);
            log(
              `round ${round}/${options.rounds} ${ROUTE_LABELS[route]} ${inFlight} in flight: ${Math.round(result.callsPerSecond)} calls/s, ` +
                `p50 ${result.p50Us.toFixed(1)} µs, p99 ${result.p99Us.toFixed(1)} µs, CPU µs/call ${describeCpu(result.cpu, result.calls)}`,
            );
          }
        }
      }
      if (options.parts.includes("events")) {
        const measurement = await measureEvents(msfd, options, round);
        events.push(measurement);
        log(
          `round ${round}/${options.rounds} events: ${Math.round(measurement.subscriber.eventsPerSecond)}/s received, ` +
            `${Math.round(measurement.publisher.eventsPerSecond)}/s published, CPU µs/event ${describeCpu(measurement.cpu, measurement.subscriber.events)}`,
        );
      }
    } finally {
      await msfd.stop();
    }
  }

  const callRows = summarizeCalls(calls);
  const eventRow = summarizeEvents(EVENT_PAYLOAD_BYTES, options.eventBatch, events);
  const machine =
    `${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown cpu"}), node ${process.version}, ` +
    `load average ${loadBefore[0]!.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`;
  console.log(`msfd benchmark, ${startedAt.toISOString()}: ${options.rounds} round(s) × ${options.durationS} s, ${runsFrom(options)}; ${machine}`);
  if (callRows.length > 0) {
    console.log("");
    console.log(formatCallTable(callRows));
  }
  if (eventRow !== undefined) {
    console.log("");
    console.log(formatEventTable(eventRow));
  }
  console.log("");
  console.log(legend(options));
  console.log("");
  const targets = checkDaemonTargets(callRows, eventRow);
  console.log(formatTargets(targets));
  if (options.smoke) console.log("\n(smoke run: proves every part runs; its figures mean nothing)");
  if (options.jsonPath !== undefined) {
    const json = { date: startedAt.toISOString(), machine, options, calls: callRows, events: eventRow ?? null, targets };
    writeFileSync(options.jsonPath, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${options.jsonPath}`);
  }
}

function runsFrom(options: DaemonBenchOptions): string {
  return options.source ? "from sources (tsx, msf from runtime/)" : "compiled (msfd and msf from dist/)";
}

function describeCpu(cpu: Readonly<Record<string, number>>, units: number): string {
  return Object.entries(cpu)
    .map(([name, seconds]) => `${name} ${units > 0 ? ((seconds * 1e6) / units).toFixed(1) : "-"}`)
    .join(", ");
}

function legend(options: DaemonBenchOptions): string {
  const lines = [
    `Each round: a fresh msfd (its own process) running flight_service, 1 instance, isolation "${ISOLATION}": the instance is its own ` +
      "process, like bench/run.ts's server, so \"direct by URI\" is bench/run.ts's msf unix row and \"brokered\" adds exactly one process (msfd) " +
      "to the path; with \"worker\" the direct rows would measure a server sharing msfd's process, heap and GC.",
    "Clients: a fresh process per row. direct by URI: createChannel(<instance endpoint from msfd's control API>); direct by name: " +
      "connectService(\"flight_service\", { mode: \"direct\" }); brokered: connectService(..., { mode: \"brokered\" }), msfd forwards each call. " +
      "×uri: the figure divided by direct by URI's at the same in-flight level. " +
      "CPU µs/call: the process's user + system CPU time (/proc) in the client's measurement window ÷ the calls counted; " +
      "it depends much less than calls/s on what else the machine runs: when the cores are the limit, calls/s ≈ cores × 1e6 ÷ all CPU µs/call, " +
      "so its ×uri (read inverted) is the ratio a CPU-bound machine would show " +
      "(at 1 in flight every call pays a wake-up in each process, hence the larger figures).",
    options.source
      ? "Processes ran from sources through tsx: its esbuild transform wraps every closure in __name(), which alone took about a fifth of msfd's CPU per forwarded call; the default compiled run is what users get."
      : "Processes ran compiled (msfd, its instance and msf from dist/, the benchmark's code transpiled once), as users run them.",
  ];
  if (options.parts.includes("events")) {
    lines.push(
      `Events: one publisher process (createPublisher, ${options.eventBatch} events per Publish, 4 Publish calls in flight) → msfd (queue_limit ${EVENT_QUEUE_LIMIT}, ` +
        `drop_policy block: nothing dropped) → one subscriber process (subscribe, long-polled Pulls of up to ${options.eventBatch} events); ` +
        `${options.eventBatch === 256 ? "256 is both sides' default; " : ""}${EVENT_PAYLOAD_BYTES} B payloads, each ` +
        "checked for size and sequence. received/s: events the subscriber got in its window (after the warm-up from its first event); " +
        "published/s: events msfd accepted from the publisher in its own window; ×target: received/s ÷ 80,000; " +
        "CPU µs/event: each process's CPU time in the subscriber's window ÷ the events it received.",
    );
  }
  return lines.join("\n");
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench daemon: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
