// `npm run bench`: raw node:net vs msf vs grpc-js, side by side, in one run. For each scenario
// the server runs in one child process and the client in another; rounds interleave the
// implementations, each round in a rotated order, so machine noise hits all of them alike; the
// table shows each figure's median over the rounds and its ratio to the row's baseline (raw over
// the same transport, raw over unix for udp and netlink, msf without auth for msf-auth).
// docs/performance.md explains the rows.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clientArgv, LISTENING, PEAK, parseResult, RESULT, serverArgv } from "./child-protocol.js";
import { Child, killAll, type Launcher } from "./children.js";
import { compiledLauncher, sourceLauncher } from "./launcher.js";
import { parseOptions, type BenchOptions } from "./options.js";
import { checkTargets, formatTable, formatTargets, summarizeRows, TABLE_LEGEND, type Measurement } from "./report.js";
import { roundScenarios, scenarioKey, type Scenario } from "./rows.js";

const repoRoot = resolve(import.meta.dirname, "..");
/** msf's netlink transport needs this addon (scripts/build-native.mjs builds it, when it can). */
const NETLINK_ADDON = join(repoRoot, "native/netlink/build/Release/netlink.node");
const START_TIMEOUT_MS = 30_000;
const PEAK_TIMEOUT_MS = 5_000;
/** Beyond warm-up + duration: connecting, the last calls, printing the result. */
const RESULT_GRACE_MS = 40_000;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

async function measure(scenario: Scenario, launcher: Launcher, options: BenchOptions, socketPath: string): Promise<Measurement> {
  const label = `${scenario.kind} ${scenario.transport} ${scenario.inFlight} in flight`;
  const warmupMs = Math.round(options.warmupS * 1000);
  const durationMs = Math.round(options.durationS * 1000);
  const server = new Child(`${label}: server`, launcher, "server-main", serverArgv({ impl: scenario.impl, transport: scenario.transport, socketPath }));
  // Started alongside the server, so both load their code at once; it waits for its target on stdin.
  const client = new Child(
    `${label}: client`,
    launcher,
    "client-main",
    clientArgv({ impl: scenario.impl, mode: scenario.mode, inFlight: scenario.inFlight, warmupMs, durationMs }),
  );
  try {
    const target = await server.expect(LISTENING, START_TIMEOUT_MS);
    client.send(target);
    const result = parseResult(await client.expect(RESULT, START_TIMEOUT_MS + warmupMs + durationMs + RESULT_GRACE_MS));
    server.send(PEAK);
    const peak = Number(await server.expect(PEAK, PEAK_TIMEOUT_MS));
    return {
      callsPerSecond: result.callsPerSecond,
      p50Us: result.p50Us,
      p99Us: result.p99Us,
      calls: result.calls,
      seconds: result.seconds,
      serverPeakRssBytes: peak,
    };
  } finally {
    await Promise.all([client.kill(), server.kill()]);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const kinds = options.only;
  const workDir = mkdtempSync(join(tmpdir(), "msf-bench-"));
  const cleanUp = (): void => {
    killAll();
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once("exit", cleanUp);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanUp();
      process.exit(130);
    });
  }

  // Without the addon a netlink server cannot start: its rows are left out, saying so, not failed.
  const notes: string[] = [];
  let transports = options.transports;
  if (transports.includes("netlink") && !existsSync(NETLINK_ADDON)) {
    transports = transports.filter((transport) => transport !== "netlink");
    const note = `netlink rows skipped: the netlink addon is not built (${NETLINK_ADDON} is missing; build it with node scripts/build-native.mjs)`;
    notes.push(note);
    log(note);
  }
  if (transports.length === 0) throw new Error(`no transport left to measure: ${notes.join("; ")}`);

  const scenarios = roundScenarios(kinds, transports);
  if (scenarios.length === 0) {
    throw new Error(`no row to measure: --only ${kinds.join(",")} runs over none of --transports ${transports.join(",")} (raw and grpc have no udp or netlink)`);
  }
  const impls = [...new Set(scenarios.map((scenario) => scenario.impl))];
  const launcher = options.source ? sourceLauncher(repoRoot) : await compiledLauncher(repoRoot, workDir, impls, log);
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(
    `${scenarios.length} scenarios × ${options.rounds} round(s), ${options.warmupS} s warm-up + ${options.durationS} s each, ` +
      `${options.source ? "from sources (tsx, msf from runtime/)" : "compiled (msf from dist/)"}`,
  );
  const measured = new Map<string, Measurement[]>();
  let socketCount = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of roundScenarios(kinds, transports, round - 1)) {
      const socketPath = join(workDir, `s${socketCount++}.sock`);
      const measurement = await measure(scenario, launcher, options, socketPath);
      const list = measured.get(scenarioKey(scenario)) ?? [];
      list.push(measurement);
      measured.set(scenarioKey(scenario), list);
      log(
        `round ${round}/${options.rounds} ${scenarioKey(scenario)}: ${Math.round(measurement.callsPerSecond)} calls/s, ` +
          `p50 ${measurement.p50Us.toFixed(1)} µs, p99 ${measurement.p99Us.toFixed(1)} µs`,
      );
    }
  }

  const rows = summarizeRows(scenarios, measured);
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? "unknown cpu"}), node ${process.version}, ` +
    `load average ${loadBefore[0]!.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`;
  console.log(
    `msf benchmark, ${startedAt.toISOString()}: ${options.rounds} round(s) × ${options.durationS} s, ` +
      `${options.source ? "sources" : "compiled, msf from dist/"}; ${machine}`,
  );
  console.log("");
  console.log(formatTable(rows));
  console.log("");
  console.log(TABLE_LEGEND);
  for (const note of notes) console.log(note);
  console.log("");
  const targets = checkTargets(rows);
  console.log(formatTargets(targets));
  if (options.smoke) console.log("\n(smoke run: proves every part runs; its figures mean nothing)");
  if (options.jsonPath !== undefined) {
    const json = { date: startedAt.toISOString(), machine, options, notes, rows, targets };
    writeFileSync(options.jsonPath, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${options.jsonPath}`);
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
