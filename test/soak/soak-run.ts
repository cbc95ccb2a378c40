// The soak: one msfd with 3 process instances of the flight service under steady mixed load
// (calls through the broker, events published and pulled), a reload every `reloadEveryMs`, an
// instance SIGKILLed every `killEveryMs`; msfd's RSS and open fds and the instances' RSS sampled
// every `sampleEveryMs`. Used by scripts/soak.ts (minutes) and test/soak/soak.test.ts (seconds).
import type { ExecutionContext } from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { createPublisher, subscribe } from "msf/events";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd } from "../daemon/msfd-harness.js";
import { sleep, startLoad, until, type LoadReport } from "../faults/fault-load.js";

export interface SoakOptions {
  readonly durationMs: number;
  /** Load before the first sample (start-up, compilation, first allocations), ms. */
  readonly warmupMs: number;
  readonly sampleEveryMs: number;
  readonly reloadEveryMs: number;
  readonly killEveryMs: number;
  /** Events published per second. */
  readonly eventsPerSecond: number;
  readonly log: (line: string) => void;
}

export interface Sample {
  readonly atMs: number;
  readonly msfdRss: number;
  readonly msfdFds: number;
  readonly instancesRss: number;
}

export interface SoakSummary {
  readonly minutes: number;
  readonly calls: LoadReport;
  readonly events: { readonly sent: number; readonly acknowledged: number; readonly received: number; readonly failed: number };
  readonly reloads: number;
  readonly reloadsFailed: number;
  readonly kills: number;
  readonly samples: readonly Sample[];
  readonly growth: { readonly msfdRss: Growth; readonly msfdFds: Growth; readonly instancesRss: Growth };
  /** Empty when every bound held. */
  readonly violations: readonly string[];
}

export interface Growth {
  /** Medians of the first and of the last third of the samples. */
  readonly first: number;
  readonly last: number;
  readonly limit: number;
}

/**
 * The rule for "grows without bound", printed with the summary: the median of the last third
 * of the samples may exceed the median of the first third by at most
 * - msfd RSS: 25 % + 24 MiB;   - instances' RSS (sum over the live ones): 25 % + 48 MiB;
 * - msfd's open fds: 16.
 * Medians, not maxima: a garbage collection or a reload in flight is a moment, not a trend.
 */
export const GROWTH_RULE =
  "last-third median <= first-third median × 1.25 + 24 MiB (msfd RSS), × 1.25 + 48 MiB (instances' RSS), + 16 (msfd open fds)";

const MiB = 1024 * 1024;
const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

function rssOf(pid: number): number {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
    return pages * 4096;
  } catch {
    return 0;
  }
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

function growth(samples: readonly Sample[], pick: (sample: Sample) => number, factor: number, extra: number): Growth {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const first = median(samples.slice(0, third).map(pick));
  const last = median(samples.slice(-third).map(pick));
  return { first, last, limit: first * factor + extra };
}

export async function runSoak(t: ExecutionContext, options: SoakOptions): Promise<SoakSummary> {
  const service = {
    svc_name: "flight_service",
    svc_libs: flightPlugin,
    isolation: "process",
    instances: 3,
    idempotent_methods: ["queryFlight"],
    svc_conf: { version: 0 },
    restart: { max_restarts: 100, window_ms: 60_000, backoff_initial_ms: 50, backoff_max_ms: 1000, stop_timeout_ms: 3000 },
  };
  const config = (version: number) => ({ proc_name: "soak", proc_svcs: [{ ...service, svc_conf: { version } }] });
  const msfd = await startMsfd(t, config(0), { args: ["--no-watch"] });
  const msfdPid = msfd.process.pid!;
  const control = msfd.controlClient();
  const instancePids = async (): Promise<number[]> =>
    ((await control.status({})).services[0]?.instances ?? []).filter((instance) => instance.state === "ready").map((instance) => instance.pid);
  await until(async () => ((await instancePids()).length === 3 ? true : undefined), 30_000, "3 ready instances");

  const channel = msfd.broker();
  const client = new FlightServiceClient(channel);
  const load = startLoad({
    concurrency: 4,
    timeoutMs: 2000,
    slackMs: 500,
    pauseMs: 2,
    maxCalls: 50_000_000,
    maxMs: options.durationMs + options.warmupMs + 60_000,
    call: async (_index, timeoutMs) => {
      const reply = await client.queryFlight(bison, { timeoutMs });
      if (reply.errmsg !== "success") throw new Error(`wrong reply: ${reply.errmsg}`);
    },
  });

  const received = new Set<string>();
  let duplicates = 0;
  const decoder = new TextDecoder();
  const subscription = subscribe(channel, "soak.tick", { waitMs: 1000 }, (event) => {
    const payload = decoder.decode(event.payload);
    if (received.has(payload)) duplicates++;
    received.add(payload);
  });
  t.teardown(() => subscription.close());
  await subscription.ready;
  const publisher = createPublisher(channel, { timeoutMs: 3000 });
  t.teardown(() => publisher.close().catch(() => undefined));
  const encoder = new TextEncoder();
  const acknowledged: string[] = [];
  let sent = 0;
  let publishFailed = 0;
  let publishing = true;
  const publishing$ = (async () => {
    const every = Math.max(1, Math.floor(1000 / options.eventsPerSecond));
    while (publishing) {
      const payload = `tick ${sent++}`;
      publisher.publish("soak.tick", encoder.encode(payload)).then(
        () => void acknowledged.push(payload),
        () => void publishFailed++,
      );
      await sleep(every);
    }
  })();

  const startedAt = Date.now();
  const samples: Sample[] = [];
  let reloads = 0;
  let reloadsFailed = 0;
  let kills = 0;
  let nextReload = startedAt + options.reloadEveryMs;
  let nextKill = startedAt + options.killEveryMs;
  let nextSample = startedAt + options.warmupMs;
  const endAt = startedAt + options.warmupMs + options.durationMs;
  // Bounded by endAt; one step every 100 ms.
  while (Date.now() < endAt) {
    const now = Date.now();
    if (now >= nextSample) {
      nextSample += options.sampleEveryMs;
      const pids = await instancePids();
      const sample = {
        atMs: now - startedAt,
        msfdRss: rssOf(msfdPid),
        msfdFds: fdsOf(msfdPid),
        instancesRss: pids.reduce((sum, pid) => sum + rssOf(pid), 0),
      };
      samples.push(sample);
      options.log(
        `${(sample.atMs / 1000).toFixed(0).padStart(5)} s  msfd rss ${(sample.msfdRss / MiB).toFixed(1)} MiB, fds ${sample.msfdFds}; ` +
          `instances rss ${(sample.instancesRss / MiB).toFixed(1)} MiB; calls ok ${load.ok}; events acked ${acknowledged.length}, received ${received.size}`,
      );
    }
    if (now >= nextReload) {
      nextReload += options.reloadEveryMs;
      reloads++;
      msfd.writeConfig(config(reloads));
      await control.reload({ service: "" }).catch((error: unknown) => {
        reloadsFailed++;
        options.log(`reload ${reloads} failed: ${String(error)}`);
      });
    }
    if (now >= nextKill) {
      nextKill += options.killEveryMs;
      const pids = await instancePids();
      if (pids.length > 0) {
        try {
          process.kill(pids[kills % pids.length]!, "SIGKILL");
          kills++;
        } catch {
          // It went away by itself (a reload replaced it): the next kill is in a minute.
        }
      }
    }
    await sleep(100);
  }
  publishing = false;
  await publishing$;
  await publisher.flush().catch(() => undefined);
  const calls = await load.stop();
  await until(() => (acknowledged.every((payload) => received.has(payload)) ? true : undefined), 15_000, "every acknowledged event").catch(() => undefined);

  const result = {
    msfdRss: growth(samples, (sample) => sample.msfdRss, 1.25, 24 * MiB),
    msfdFds: growth(samples, (sample) => sample.msfdFds, 1, 16),
    instancesRss: growth(samples, (sample) => sample.instancesRss, 1.25, 48 * MiB),
  };
  const violations: string[] = [];
  for (const [name, value] of Object.entries(result)) {
    if (value.last > value.limit) violations.push(`${name} grew from ${value.first} to ${value.last} (limit ${Math.round(value.limit)})`);
  }
  const lost = acknowledged.filter((payload) => !received.has(payload)).length;
  if (lost > 0) violations.push(`${lost} acknowledged events were not delivered`);
  if (duplicates > 0) violations.push(`${duplicates} events were delivered twice`);
  if (calls.failed > 0) violations.push(`${calls.failed} calls failed ${JSON.stringify(calls.failuresByCode)}`);
  if (calls.overran.length > 0) violations.push(`${calls.overran.length} calls ran past their deadline`);
  if (reloadsFailed > 0) violations.push(`${reloadsFailed} reloads failed`);
  if (samples.length < 3) violations.push(`only ${samples.length} samples`);
  return {
    minutes: options.durationMs / 60_000,
    calls,
    events: { sent, acknowledged: acknowledged.length, received: received.size, failed: publishFailed },
    reloads,
    reloadsFailed,
    kills,
    samples,
    growth: result,
    violations,
  };
}

/** The summary as lines of text. */
export function formatSummary(summary: SoakSummary): string[] {
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  const { calls, events, growth: g } = summary;
  return [
    `soak: ${summary.minutes.toFixed(2)} min measured, ${summary.samples.length} samples, ${summary.reloads} reloads (${summary.reloadsFailed} failed), ${summary.kills} instances SIGKILLed`,
    `calls: ${calls.ok} ok, ${calls.failed} failed ${JSON.stringify(calls.failuresByCode)}, longest call ${calls.longestCallMs} ms, longest gap without a success ${calls.longestGapMs} ms`,
    `events: ${events.sent} sent, ${events.acknowledged} acknowledged, ${events.received} received, ${events.failed} publishes failed`,
    `msfd rss: ${mib(g.msfdRss.first)} → ${mib(g.msfdRss.last)} (limit ${mib(g.msfdRss.limit)}); msfd fds: ${g.msfdFds.first} → ${g.msfdFds.last} (limit ${g.msfdFds.limit}); ` +
      `instances rss: ${mib(g.instancesRss.first)} → ${mib(g.instancesRss.last)} (limit ${mib(g.instancesRss.limit)})`,
    `rule: ${GROWTH_RULE}`,
    summary.violations.length === 0 ? "verdict: ok" : `verdict: FAILED\n  ${summary.violations.join("\n  ")}`,
  ];
}
