// The daemon benchmark's command line: `tsx bench/daemon/run.ts [--duration S] [--rounds R]
// [--warmup S] [--only calls,events] [--event-batch N] [--smoke] [--json FILE] [--source] [--cpu-prof DIR]`.
import yargs from "yargs";

export const PARTS = ["calls", "events"] as const;
export type Part = (typeof PARTS)[number];

export interface DaemonBenchOptions {
  /** Measured seconds per row and round (after the warm-up). */
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly parts: readonly Part[];
  /** Events per Publish and per Pull (createPublisher's and subscribe's maxBatch; 256 is their default). */
  readonly eventBatch: number;
  readonly smoke: boolean;
  readonly jsonPath: string | undefined;
  /** Run every process from TypeScript sources via tsx (msf from runtime/), not compiled JS against dist/. */
  readonly source: boolean;
  /** Where every process (msfd and its instance, clients, publisher, subscriber) writes V8 CPU profiles; undefined: no profiling. */
  readonly cpuProfDir: string | undefined;
}

const SMOKE_DURATION_S = 0.5;
const SMOKE_WARMUP_S = 0.2;

export function parseDaemonOptions(argv: readonly string[]): DaemonBenchOptions {
  const args = yargs([...argv])
    .scriptName("bench/daemon/run.ts")
    .usage(
      "$0 [options]\n\nmsfd's costs: flight calls by name (direct by URI, direct by name, brokered through msfd) at 1 and 64 in flight, " +
        "and 1 KB events from one publisher to one subscriber through msfd over unix.",
    )
    .option("duration", { describe: "measured seconds per row and round", type: "number", default: 3, requiresArg: true })
    .option("warmup", { describe: "seconds of load before each measurement, not counted", type: "number", default: 0.5, requiresArg: true })
    .option("rounds", { describe: "rounds (a fresh msfd each); the tables show each figure's median", type: "number", default: 3, requiresArg: true })
    .option("only", { describe: `parts to run, comma-separated: ${PARTS.join(",")}`, type: "string", default: PARTS.join(","), requiresArg: true })
    .option("event-batch", { describe: "events per Publish and per Pull (createPublisher's and subscribe's maxBatch; their default is 256)", type: "number", default: 256, requiresArg: true })
    .option("smoke", { describe: "one short round: proves everything runs, says nothing about speed", type: "boolean", default: false })
    .option("json", { describe: "also write the results as JSON to this file", type: "string", requiresArg: true })
    .option("source", { describe: "run from TypeScript sources via tsx (msf from runtime/), not compiled JS against dist/", type: "boolean", default: false })
    .option("cpu-prof", { describe: "write CPU profiles (node --cpu-prof) of msfd, its instance and every client into DIR/round-<n>-<process>/", type: "string", requiresArg: true })
    .version(false)
    .help()
    .alias("help", "h")
    .strict()
    .wrap(null)
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      throw new Error(`${message} (see --help)`);
    })
    .parseSync();

  const smoke = args.smoke;
  const durationS = smoke ? SMOKE_DURATION_S : args.duration;
  const warmupS = smoke ? SMOKE_WARMUP_S : args.warmup;
  const rounds = smoke ? 1 : args.rounds;
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 600) throw new Error(`--duration must be a number of seconds in (0, 600], got ${args.duration}`);
  if (!Number.isFinite(warmupS) || warmupS < 0 || warmupS > 60) throw new Error(`--warmup must be a number of seconds in [0, 60], got ${args.warmup}`);
  const eventBatch = args["event-batch"];
  if (!Number.isInteger(eventBatch) || eventBatch < 1 || eventBatch > 65_536) throw new Error(`--event-batch must be an integer in [1, 65536], got ${eventBatch}`);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 99) throw new Error(`--rounds must be an integer in [1, 99], got ${args.rounds}`);
  const parts = args.only.split(",").map((part) => part.trim()).filter((part) => part !== "");
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only: unknown part "${part}", expected some of ${PARTS.join(",")}`);
  }
  if (parts.length === 0) throw new Error(`--only needs at least one of ${PARTS.join(",")}`);
  return {
    durationS,
    warmupS,
    rounds,
    parts: [...new Set(parts as Part[])],
    eventBatch,
    smoke,
    jsonPath: args.json,
    source: args.source,
    cpuProfDir: args["cpu-prof"],
  };
}
