// The measuring loops of the client process. Latencies go into a fixed histogram, so measuring
// adds no per-call allocation to what the implementation does (latency-histogram.ts says why
// not an array of samples). Every loop is bounded twice: by time (warm-up + duration) and by a
// call count far above what any implementation reaches.
import type { BenchClient } from "./impl/implementation.js";
import { LatencyHistogram } from "./latency-histogram.js";
import { FLIGHT_REQUEST, isFlightAnswer } from "./workload.js";

export interface LoadPlan {
  /** Concurrent lanes; each issues its next call as soon as its previous one completes. */
  readonly inFlight: number;
  /** Calls run but not counted before the measurement starts. */
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoadResult {
  /** Calls started inside the measurement window (and completed). */
  readonly calls: number;
  /** From the window's start to the last counted call's completion. */
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** True when the call-count bound, not the duration, ended the measurement. */
  readonly capacityReached: boolean;
}

/** Generous: five times what the raw baseline reaches on this machine. */
const MAX_CALLS_PER_SECOND = 400_000;

interface Window {
  readonly measureFrom: number;
  readonly endAt: number;
  readonly latencies: LatencyHistogram;
  readonly maxCalls: number;
  warmupCalls: number;
  lastEnd: number;
}

function openWindow(plan: LoadPlan): Window {
  const now = performance.now();
  return {
    measureFrom: now + plan.warmupMs,
    endAt: now + plan.warmupMs + plan.durationMs,
    latencies: new LatencyHistogram(),
    maxCalls: Math.ceil((Math.max(plan.durationMs, plan.warmupMs) / 1000) * MAX_CALLS_PER_SECOND) + 1024,
    warmupCalls: 0,
    lastEnd: now + plan.warmupMs,
  };
}

/** Records one call; returns false when the loop must stop. */
function record(window: Window, started: number, ended: number): boolean {
  if (started >= window.measureFrom) {
    if (window.latencies.count >= window.maxCalls) return false;
    window.latencies.record((ended - started) * 1000);
    window.lastEnd = ended;
    return true;
  }
  window.warmupCalls++;
  return window.warmupCalls < window.maxCalls;
}

function summarize(window: Window): LoadResult {
  const calls = window.latencies.count;
  const seconds = (window.lastEnd - window.measureFrom) / 1000;
  return {
    calls,
    seconds,
    callsPerSecond: seconds > 0 ? calls / seconds : 0,
    p50Us: window.latencies.percentile(0.5),
    p99Us: window.latencies.percentile(0.99),
    capacityReached: calls >= window.maxCalls,
  };
}

function wrongAnswer(response: unknown): Error {
  return new Error(`server answered ${JSON.stringify(response)}, not the flight answer`);
}

/** `plan.inFlight` async lanes against `client`. Rejects on the first failed or wrong call. */
export async function runAsyncLoad(client: BenchClient, plan: LoadPlan): Promise<LoadResult> {
  const window = openWindow(plan);
  const lane = async (): Promise<void> => {
    for (;;) {
      const started = performance.now();
      if (started >= window.endAt) return;
      const response = await client.call(FLIGHT_REQUEST);
      const ended = performance.now();
      if (!isFlightAnswer(response)) throw wrongAnswer(response);
      if (!record(window, started, ended)) return;
    }
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < plan.inFlight; i++) lanes.push(lane());
  await Promise.all(lanes);
  return summarize(window);
}

/** One blocking call at a time against `client.callSync`. */
export function runSyncLoad(client: BenchClient, plan: LoadPlan): LoadResult {
  const callSync = client.callSync;
  if (callSync === undefined) throw new Error("this implementation has no blocking calls");
  const window = openWindow(plan);
  for (;;) {
    const started = performance.now();
    if (started >= window.endAt) break;
    const response = callSync(FLIGHT_REQUEST);
    const ended = performance.now();
    if (!isFlightAnswer(response)) throw wrongAnswer(response);
    if (!record(window, started, ended)) break;
  }
  return summarize(window);
}
