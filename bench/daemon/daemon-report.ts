// The daemon benchmark's tables, in bench/report.ts's style: each figure the median of its
// rounds (bench/report.ts's median), call rows with their ratio to "direct by URI" at the same
// in-flight level, the event row with its target; the targets of issue 4 checked and printed
// with bench/report.ts's formatTargets (informational: the run never fails on speed).
import type { LoadResult } from "../load-loop.js";
import { formatTargets, median, type TargetCheck } from "../report.js";
import { CALL_ROUTES, ROUTE_LABELS, type CallRoute, type EventRate } from "./protocol.js";

export const IN_FLIGHT_LEVELS = [1, 64] as const;
/** Issue 4: brokered calls at 64 in flight reach at least this share of direct calls' rate. */
export const BROKERED_MIN_RATIO = 0.5;
/** Issue 4: "direct by name = direct by URI"; read as: within 10% (run-to-run noise on a shared machine is about that). */
export const BY_NAME_MIN_RATIO = 0.9;
/** Issue 4: 1 KB events per second from one publisher to one subscriber through msfd over unix. */
export const EVENTS_MIN_PER_SECOND = 80_000;

/** The processes whose CPU time a call row shows, in the table's order. */
export const CALL_PROCESSES = ["client", "msfd", "instance"] as const;
/** The processes whose CPU time the event row shows. */
export const EVENT_PROCESSES = ["publisher", "msfd", "subscriber"] as const;

/** CPU seconds each process used during a measurement window, by process name. */
export type CpuUse = Readonly<Record<string, number>>;

export interface CallMeasurement extends LoadResult {
  readonly cpu: CpuUse;
}

export interface CallRow {
  readonly route: CallRoute;
  readonly inFlight: number;
  /** Medians over the rounds, each figure on its own. */
  readonly callsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** CPU µs per call by process (median over the rounds); a process not sampled is missing. */
  readonly cpuUsPerCall: Readonly<Record<string, number>>;
  readonly rounds: readonly CallMeasurement[];
}

export interface EventMeasurement {
  readonly subscriber: EventRate;
  readonly publisher: EventRate;
  /** In the subscriber's window. */
  readonly cpu: CpuUse;
}

export interface EventRow {
  readonly payloadBytes: number;
  /** Events per Publish and per Pull at most. */
  readonly batch: number;
  /** Medians over the rounds. */
  readonly receivedPerSecond: number;
  readonly publishedPerSecond: number;
  /** CPU µs per event received, by process. */
  readonly cpuUsPerEvent: Readonly<Record<string, number>>;
  readonly rounds: readonly EventMeasurement[];
}

/** Each process's CPU µs per unit (call, event), median over the rounds that sampled it. */
function cpuPer(processes: readonly string[], rounds: ReadonlyArray<{ cpu: CpuUse; units: number }>): Record<string, number> {
  const per: Record<string, number> = {};
  for (const name of processes) {
    const values = rounds.filter((round) => round.cpu[name] !== undefined && round.units > 0).map((round) => (round.cpu[name]! * 1e6) / round.units);
    if (values.length > 0) per[name] = median(values);
  }
  return per;
}

export function callKey(route: CallRoute, inFlight: number): string {
  return `${route}/${inFlight}`;
}

export function summarizeCalls(measured: ReadonlyMap<string, CallMeasurement[]>): CallRow[] {
  const rows: CallRow[] = [];
  for (const inFlight of IN_FLIGHT_LEVELS) {
    for (const route of CALL_ROUTES) {
      const rounds = measured.get(callKey(route, inFlight)) ?? [];
      if (rounds.length === 0) continue;
      rows.push({
        route,
        inFlight,
        callsPerSecond: median(rounds.map((r) => r.callsPerSecond)),
        p50Us: median(rounds.map((r) => r.p50Us)),
        p99Us: median(rounds.map((r) => r.p99Us)),
        cpuUsPerCall: cpuPer(CALL_PROCESSES, rounds.map((r) => ({ cpu: r.cpu, units: r.calls }))),
        rounds,
      });
    }
  }
  return rows;
}

export function summarizeEvents(payloadBytes: number, batch: number, rounds: readonly EventMeasurement[]): EventRow | undefined {
  if (rounds.length === 0) return undefined;
  return {
    payloadBytes,
    batch,
    receivedPerSecond: median(rounds.map((r) => r.subscriber.eventsPerSecond)),
    publishedPerSecond: median(rounds.map((r) => r.publisher.eventsPerSecond)),
    cpuUsPerEvent: cpuPer(EVENT_PROCESSES, rounds.map((r) => ({ cpu: r.cpu, units: r.subscriber.events }))),
    rounds,
  };
}

function baseOf(rows: readonly CallRow[], inFlight: number): CallRow | undefined {
  return rows.find((row) => row.route === "uri" && row.inFlight === inFlight);
}

const ratio = (value: number, of: number | undefined): string => (of === undefined || of === 0 ? "-" : (value / of).toFixed(2));

/** Left-aligns the first `leftColumns` columns, right-aligns the rest. */
function table(header: readonly string[], body: readonly string[][], leftColumns: number): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

/** The CPU µs per call of all the row's processes; undefined unless each was sampled. */
export function cpuTotal(row: CallRow): number | undefined {
  let sum = 0;
  for (const name of CALL_PROCESSES) {
    const value = row.cpuUsPerCall[name];
    if (value === undefined) return undefined;
    sum += value;
  }
  return sum;
}

const cpuCell = (per: Readonly<Record<string, number>>, name: string): string => (per[name] === undefined ? "-" : per[name]!.toFixed(1));

export function formatCallTable(rows: readonly CallRow[]): string {
  const header = [
    "calls by name",
    "in-flight",
    "calls/s",
    "×uri",
    "p50 µs",
    "×uri",
    "p99 µs",
    "×uri",
    ...CALL_PROCESSES.map((name) => `${name} CPU µs/call`),
    "all CPU µs/call",
    "×uri",
  ];
  const body = rows.map((row) => {
    const base = baseOf(rows, row.inFlight);
    return [
      ROUTE_LABELS[row.route],
      String(row.inFlight),
      Math.round(row.callsPerSecond).toLocaleString("en-US"),
      ratio(row.callsPerSecond, base?.callsPerSecond),
      row.p50Us.toFixed(1),
      ratio(row.p50Us, base?.p50Us),
      row.p99Us.toFixed(1),
      ratio(row.p99Us, base?.p99Us),
      ...CALL_PROCESSES.map((name) => cpuCell(row.cpuUsPerCall, name)),
      cpuTotal(row) === undefined ? "-" : cpuTotal(row)!.toFixed(1),
      ratio(cpuTotal(row) ?? 0, base === undefined ? undefined : cpuTotal(base)),
    ];
  });
  return table(header, body, 1);
}

export function formatEventTable(row: EventRow): string {
  const header = [
    "events through msfd (unix)",
    "payload B",
    "batch",
    "received/s",
    "MB/s",
    "×target",
    "published/s",
    ...EVENT_PROCESSES.map((name) => `${name} CPU µs/event`),
  ];
  const body = [
    [
      "1 publisher → 1 subscriber",
      String(row.payloadBytes),
      String(row.batch),
      Math.round(row.receivedPerSecond).toLocaleString("en-US"),
      ((row.receivedPerSecond * row.payloadBytes) / (1024 * 1024)).toFixed(1),
      ratio(row.receivedPerSecond, EVENTS_MIN_PER_SECOND),
      Math.round(row.publishedPerSecond).toLocaleString("en-US"),
      ...EVENT_PROCESSES.map((name) => cpuCell(row.cpuUsPerEvent, name)),
    ],
  ];
  return table(header, body, 1);
}

export function checkDaemonTargets(calls: readonly CallRow[], events: EventRow | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, measured: number, bound: number, direction: "min" | "max"): void => {
    checks.push({ target, measured, bound, direction, met: direction === "min" ? measured >= bound : measured <= bound });
  };
  const at = (route: CallRoute, inFlight: number): CallRow | undefined => calls.find((row) => row.route === route && row.inFlight === inFlight);
  const uri64 = at("uri", 64);
  const brokered64 = at("brokered", 64);
  const name64 = at("name", 64);
  // The same ratios as a CPU-bound machine would show them (direct by URI's CPU per call ÷ the
  // row's): steadier than calls/s on a machine that runs other work too.
  const byCpu = (row: CallRow, base: CallRow): number | undefined => {
    const [mine, theirs] = [cpuTotal(row), cpuTotal(base)];
    return mine === undefined || theirs === undefined || mine === 0 ? undefined : theirs / mine;
  };
  for (const [label, row, bound] of [
    ["brokered", brokered64, BROKERED_MIN_RATIO],
    ["direct by name", name64, BY_NAME_MIN_RATIO],
  ] as const) {
    if (uri64 === undefined || row === undefined) continue;
    add(`${label} 64 in flight: calls/s ×direct by URI`, row.callsPerSecond / uri64.callsPerSecond, bound, "min");
    const estimate = byCpu(row, uri64);
    if (estimate !== undefined) add(`${label} 64 in flight: CPU-bound estimate (all CPU µs/call of direct by URI ÷ its)`, estimate, bound, "min");
  }
  if (events !== undefined) {
    add(`events ${events.payloadBytes} B: received/s ×${EVENTS_MIN_PER_SECOND.toLocaleString("en-US")}`, events.receivedPerSecond / EVENTS_MIN_PER_SECOND, 1, "min");
  }
  return checks;
}

export { formatTargets };
