// The driver's command line: `tsx bench/run.ts [--duration S] [--rounds R] [--only ...]
// [--transports ...] [--smoke] [--json FILE] [--source]`.
import yargs from "yargs";
import { ROW_KINDS, TRANSPORTS, type RowKind } from "./rows.js";
import type { TransportName } from "./impl/implementation.js";

export interface BenchOptions {
  /** Measured seconds per scenario and round (after the warm-up). */
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly only: readonly RowKind[];
  readonly transports: readonly TransportName[];
  readonly smoke: boolean;
  readonly jsonPath: string | undefined;
  /** Run children from TypeScript through tsx, msf from runtime/ sources, instead of compiled JS and dist/. */
  readonly source: boolean;
}

const SMOKE_DURATION_S = 0.2;
const SMOKE_WARMUP_S = 0.05;
const WARMUP_S = 0.5;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const args = yargs([...argv])
    .scriptName("bench/run.ts")
    .usage("$0 [options]\n\nraw node:net vs msf vs grpc-js, unary flight calls at 1 and 64 in flight, over unix and tcp (msf also over udp and netlink).")
    .option("duration", { describe: "measured seconds per scenario and round", type: "number", default: 3, requiresArg: true })
    .option("rounds", { describe: "rounds; the table shows each figure's median", type: "number", default: 3, requiresArg: true })
    .option("only", { describe: `rows to run, comma-separated: ${ROW_KINDS.join(",")}`, type: "string", requiresArg: true })
    .option("transports", { describe: `transports, comma-separated: ${TRANSPORTS.join(",")}`, type: "string", default: TRANSPORTS.join(","), requiresArg: true })
    .option("smoke", { describe: "one short round: proves everything runs, says nothing about speed", type: "boolean", default: false })
    .option("json", { describe: "also write the results as JSON to this file", type: "string", requiresArg: true })
    .option("source", { describe: "run from TypeScript sources via tsx (msf from runtime/), not compiled JS against dist/", type: "boolean", default: false })
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
  const rounds = smoke ? 1 : args.rounds;
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 600) {
    throw new Error(`--duration must be a number of seconds in (0, 600], got ${args.duration}`);
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 99) throw new Error(`--rounds must be an integer in [1, 99], got ${args.rounds}`);
  return {
    durationS,
    warmupS: smoke ? SMOKE_WARMUP_S : WARMUP_S,
    rounds,
    only: args.only === undefined ? ROW_KINDS : parseList("--only", args.only, ROW_KINDS),
    transports: parseList("--transports", args.transports, TRANSPORTS),
    smoke,
    jsonPath: args.json,
    source: args.source,
  };
}

function parseList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) throw new Error(`${flag} needs at least one of ${allowed.join(",")}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`${flag}: unknown "${item}", expected some of ${allowed.join(",")}`);
  }
  return [...new Set(items as T[])];
}
