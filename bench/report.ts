// Turns the rounds' measurements into the table (each figure the median of its rounds, with its
// ratio to the row's baseline at the same in-flight level: see baselineOf in rows.ts), the
// targets of docs/performance.md (informational: the benchmark never fails on speed), and the
// JSON form.
import { baselineOf, IN_FLIGHT_LEVELS, scenarioKey, type RowKind, type Scenario } from "./rows.js";
import { TRANSPORT_NAMES, type TransportName } from "./impl/implementation.js";

/** One scenario measured once. */
export interface Measurement {
  readonly callsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly calls: number;
  readonly seconds: number;
  readonly serverPeakRssBytes: number;
}

export interface Row {
  readonly kind: RowKind;
  readonly transport: TransportName;
  readonly inFlight: number;
  /** Median of the rounds, each figure on its own. */
  readonly median: Measurement;
  readonly rounds: readonly Measurement[];
}

export function summarizeRows(scenarios: readonly Scenario[], measured: ReadonlyMap<string, Measurement[]>): Row[] {
  return scenarios.flatMap((scenario) => {
    const rounds = measured.get(scenarioKey(scenario)) ?? [];
    if (rounds.length === 0) return [];
    const pick = (field: keyof Measurement): number => median(rounds.map((m) => m[field]));
    const middle: Measurement = {
      callsPerSecond: pick("callsPerSecond"),
      p50Us: pick("p50Us"),
      p99Us: pick("p99Us"),
      calls: pick("calls"),
      seconds: pick("seconds"),
      serverPeakRssBytes: pick("serverPeakRssBytes"),
    };
    return [{ kind: scenario.kind, transport: scenario.transport, inFlight: scenario.inFlight, median: middle, rounds }];
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function find(rows: readonly Row[], kind: RowKind, transport: TransportName, inFlight: number): Row | undefined {
  return rows.find((row) => row.kind === kind && row.transport === transport && row.inFlight === inFlight);
}

const MB = 1024 * 1024;

/** Printed under the table: what the ×base columns divide by. */
export const TABLE_LEGEND =
  "×base: the figure divided by the baseline row's (last column) at the same in-flight level; \"-\" when that row did not run. " +
  "Baselines: raw over the same transport; for udp and netlink (raw has neither) raw over unix; for msf-auth msf without auth over the same transport.";

export function formatTable(rows: readonly Row[]): string {
  const header = ["impl", "transport", "in-flight", "calls/s", "×base", "p50 µs", "×base", "p99 µs", "×base", "server peak RSS MB", "×base", "baseline"];
  const body = rows.map((row) => {
    const baseline = baselineOf(row.kind, row.transport);
    const base = find(rows, baseline.kind, baseline.transport, row.inFlight)?.median;
    const m = row.median;
    const ratio = (value: number, of: number | undefined): string => (of === undefined || of === 0 ? "-" : `${(value / of).toFixed(2)}`);
    return [
      row.kind,
      row.transport,
      String(row.inFlight),
      Math.round(m.callsPerSecond).toLocaleString("en-US"),
      ratio(m.callsPerSecond, base?.callsPerSecond),
      m.p50Us.toFixed(1),
      ratio(m.p50Us, base?.p50Us),
      m.p99Us.toFixed(1),
      ratio(m.p99Us, base?.p99Us),
      (m.serverPeakRssBytes / MB).toFixed(1),
      ratio(m.serverPeakRssBytes, base?.serverPeakRssBytes),
      `${baseline.kind} ${baseline.transport}`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column <= 1 || column === header.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: number;
  readonly bound: number;
  /** "min": measured must be >= bound; "max": <= bound. */
  readonly direction: "min" | "max";
  readonly met: boolean;
}

/** The targets of docs/performance.md that the measured rows allow checking. */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, measured: number, bound: number, direction: "min" | "max"): void => {
    checks.push({ target, measured, bound, direction, met: direction === "min" ? measured >= bound : measured <= bound });
  };
  for (const transport of ["unix", "tcp"] as const) {
    const msf64 = find(rows, "msf", transport, 64)?.median;
    const raw64 = find(rows, "raw", transport, 64)?.median;
    const msf1 = find(rows, "msf", transport, 1)?.median;
    const raw1 = find(rows, "raw", transport, 1)?.median;
    if (msf64 !== undefined && raw64 !== undefined) {
      add(`msf ${transport} 64 in flight: calls/s ×raw`, msf64.callsPerSecond / raw64.callsPerSecond, 0.9, "min");
    }
    if (msf1 !== undefined && raw1 !== undefined) add(`msf ${transport} 1 in flight: p50 ×raw`, msf1.p50Us / raw1.p50Us, 1.15, "max");
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const msf = find(rows, "msf", transport, inFlight)?.median;
      const raw = find(rows, "raw", transport, inFlight)?.median;
      if (msf !== undefined && raw !== undefined) {
        add(`msf ${transport} ${inFlight} in flight: server peak RSS ×raw`, msf.serverPeakRssBytes / raw.serverPeakRssBytes, 1.3, "max");
      }
      // The cost of CHAP: the handshake once per connection, nothing per call.
      const auth = find(rows, "msf-auth", transport, inFlight)?.median;
      if (auth !== undefined && msf !== undefined) {
        add(`msf-auth ${transport} ${inFlight} in flight: calls/s ×msf`, auth.callsPerSecond / msf.callsPerSecond, 0.95, "min");
      }
    }
  }
  for (const transport of ["udp", "netlink"] as const) {
    const msf64 = find(rows, "msf", transport, 64)?.median;
    const rawUnix64 = find(rows, "raw", "unix", 64)?.median;
    if (msf64 !== undefined && rawUnix64 !== undefined) {
      add(`msf ${transport} 64 in flight: calls/s ×raw unix`, msf64.callsPerSecond / rawUnix64.callsPerSecond, 0.6, "min");
    }
  }
  for (const transport of TRANSPORT_NAMES) {
    const msf1 = find(rows, "msf", transport, 1)?.median;
    const sync1 = find(rows, "msf-sync", transport, 1)?.median;
    if (sync1 !== undefined && msf1 !== undefined) {
      add(`msf-sync ${transport} 1 in flight: calls/s ×msf async`, sync1.callsPerSecond / msf1.callsPerSecond, 0.7, "min");
    }
  }
  return checks;
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return "targets: none checkable with these rows (they need raw and msf, or msf and msf-auth)";
  const width = Math.max(...checks.map((check) => check.target.length));
  return [
    "targets (docs/performance.md; informational, the run never fails on them):",
    ...checks.map(
      (check) =>
        `  ${check.target.padEnd(width)}  ${check.measured.toFixed(2)}  (${check.direction === "min" ? ">=" : "<="} ${check.bound})  ${check.met ? "met" : "MISSED"}`,
    ),
  ].join("\n");
}
