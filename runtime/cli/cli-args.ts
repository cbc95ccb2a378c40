import yargs, { type Argv } from "yargs";
import { EXIT_CODES_HELP, UsageError } from "./cli-errors.js";
import { protectStdinDash, rewriteBenchFlags } from "./cli-argv.js";
import { packageVersion } from "./cli-version.js";
import type { ConnectionFlags } from "./control-target.js";
import { parseMethodRef, type MethodRef } from "./method-ref.js";
import { durationMs, MAX_CONCURRENCY, parseMetadata, positiveInteger } from "./arg-values.js";
import { parsePayloadSource, type PayloadSource } from "./payload.js";

/** What `msf ...` asked for: options every command shares, and the command with its arguments. */
export interface Invocation {
  readonly flags: GlobalFlags;
  readonly command: Command;
}

export interface GlobalFlags extends ConnectionFlags {
  /** Machine-readable output (JSON) instead of tables and text. */
  readonly json: boolean;
  /** Per-call time limit in ms; undefined: the command's default. */
  readonly timeoutMs: number | undefined;
  /** The broker address for call, bench and events; undefined: msfd's first listen address. */
  readonly target: string | undefined;
}

export type Command =
  | { readonly name: "status" }
  | { readonly name: "call"; readonly method: MethodRef; readonly request: PayloadSource; readonly metadata: Readonly<Record<string, string>> }
  | { readonly name: "reload"; readonly service: string | undefined }
  | { readonly name: "load"; readonly service: string }
  | { readonly name: "unload"; readonly service: string }
  | { readonly name: "events pub"; readonly topic: string; readonly payload: PayloadSource; readonly key: string | undefined }
  | { readonly name: "events sub"; readonly topic: string; readonly group: string; readonly count: number | undefined }
  | {
      readonly name: "bench";
      readonly method: MethodRef;
      readonly request: PayloadSource;
      readonly metadata: Readonly<Record<string, string>>;
      readonly concurrency: number;
      readonly durationMs: number;
    };

/**
 * Parses msf's arguments. Throws UsageError (exit 2) with the message and the usage of the
 * command concerned. `--help` and `--version` print and exit 0 (yargs' own behaviour).
 */
export function parseArgs(argv: readonly string[]): Invocation {
  let command: Command | undefined;
  const select = (chosen: Command): void => {
    command = chosen;
  };
  const parsed = yargs(protectStdinDash(rewriteBenchFlags(argv)))
    .scriptName("msf")
    .usage("$0 <command> [options]\n\nOperates msfd, the msf daemon, through its control socket.")
    .option("config", {
      alias: "c",
      describe: "msfd's config file: the control socket and credentials are read from it (default ./msf.json when it exists)",
      type: "string",
      requiresArg: true,
    })
    .option("control", { describe: "control socket, unix:<path> (overrides the config; env MSF_CONTROL)", type: "string", requiresArg: true })
    .option("secrets-file", { describe: "secrets file to authenticate with (overrides the config's auth.secrets_file)", type: "string", requiresArg: true })
    .option("user", { describe: "name to authenticate as (overrides the config's auth.user)", type: "string", requiresArg: true })
    .option("target", { describe: "broker address for call, bench and events (default: msfd's first listen address)", type: "string", requiresArg: true })
    .option("json", { describe: "machine-readable output (JSON)", type: "boolean", default: false })
    .option("timeout", { describe: "time limit per call in ms (default 10000; 60000 for reload, load, unload)", type: "number", requiresArg: true })
    .command("status", "services, instances, supervised processes, recent alerts, events", {}, () => select({ name: "status" }))
    .command(
      "call <method> [request]",
      "call <service>.<method> with a JSON request (default {}; @file reads it from a file)",
      (y) => metadataOption(y.positional("method", { type: "string", describe: "<service>.<method>" }).positional("request", { type: "string", describe: "JSON object" })),
      (args) =>
        select({
          name: "call",
          method: parseMethodRef(args.method!),
          request: parsePayloadSource(args.request ?? "{}"),
          metadata: parseMetadata(args.metadata),
        }),
    )
    .command(
      "reload [service]",
      "read the config again and apply what changed (only [service]'s part when given)",
      (y) => y.positional("service", { type: "string" }),
      (args) => select({ name: "reload", service: args.service }),
    )
    .command("load <service>", "start a service of the config that was unloaded", (y) => y.positional("service", { type: "string" }), (args) =>
      select({ name: "load", service: args.service! }),
    )
    .command("unload <service>", "drain and stop a service's instances", (y) => y.positional("service", { type: "string" }), (args) =>
      select({ name: "unload", service: args.service! }),
    )
    .command("events", "publish and subscribe through msfd", (y) =>
      y
        .command(
          "pub <topic> <payload>",
          "publish: <payload> is the text, @file for a file's content, or - for one event per line of stdin",
          (z) =>
            z
              .positional("topic", { type: "string" })
              .positional("payload", { type: "string" })
              .option("key", { describe: "ordering key within a group", type: "string", requiresArg: true }),
          (args) => select({ name: "events pub", topic: args.topic!, payload: parsePayloadSource(args.payload!), key: args.key }),
        )
        .command(
          "sub <topic>",
          "subscribe and print one line per event (text when printable UTF-8, else base64:...)",
          (z) =>
            z
              .positional("topic", { type: "string", describe: "topic or pattern (* one level, > the rest)" })
              .option("group", { alias: "g", describe: "share the events with the group's other members", type: "string", requiresArg: true })
              .option("count", { alias: "n", describe: "exit after this many events", type: "number", requiresArg: true }),
          (args) => select({ name: "events sub", topic: args.topic!, group: args.group ?? "", count: positiveInteger(args.count, "--count", 1e9) }),
        )
        .demandCommand(1, "events needs a subcommand: pub or sub"),
    )
    .command(
      "bench <method> [request]",
      "load <service>.<method> through the broker; -c concurrency (after `bench`), -d seconds",
      (y) =>
        metadataOption(
          y
            .usage(
              "$0 bench <service>.<method> [request] -c <concurrency> -d <seconds>\n\n" +
                "Keeps <concurrency> json calls in flight through msfd's broker for <seconds>, then prints calls/s,\n" +
                "p50/p99/max latency and errors by code. After `bench`, -c is the concurrency: give the config as --config.",
            )
            .positional("method", { type: "string", describe: "<service>.<method>" })
            .positional("request", { type: "string", describe: "JSON object (default {}; @file reads it from a file)" }),
        )
          .option("concurrency", { describe: "calls in flight (-c after `bench`)", type: "number", default: 16, requiresArg: true })
          .option("duration", { alias: "d", describe: "seconds to run", type: "number", default: 5, requiresArg: true }),
      (args) =>
        select({
          name: "bench",
          method: parseMethodRef(args.method!),
          request: parsePayloadSource(args.request ?? "{}"),
          metadata: parseMetadata(args.metadata),
          concurrency: positiveInteger(args.concurrency, "--concurrency", MAX_CONCURRENCY)!,
          durationMs: durationMs(args.duration),
        }),
    )
    .example("$0 status", "what msfd runs, as tables (--json for scripts)")
    .example(`$0 call flight_service.queryFlight '{"name":"bison","password":"123456"}'`, "one call, the reply printed as JSON")
    .example("$0 events sub 'flight.>' -n 10", "print the next 10 events of flight.* topics")
    .example(`$0 bench flight_service.queryFlight '{"name":"bison"}' -c 64 -d 10`, "64 calls in flight for 10 s")
    .demandCommand(1, "no command given")
    .epilogue(EXIT_CODES_HELP)
    .help()
    .alias("help", "h")
    .version(packageVersion())
    .strictCommands()
    .strictOptions()
    .wrap(null)
    .fail((message, error, instance) => {
      if (error !== undefined && error !== null && !(error instanceof UsageError)) throw error;
      let usage = "";
      instance.showHelp((text) => {
        usage = text;
      });
      throw new UsageError(error?.message ?? message, usage);
    })
    .parseSync();
  if (command === undefined) throw new UsageError("no command given");
  return { flags: globalFlags(parsed), command };
}

function metadataOption<T>(y: Argv<T>) {
  return y.option("metadata", { alias: "m", describe: "key=value sent with each call (repeatable)", type: "string", array: true, requiresArg: true });
}

interface ParsedGlobals {
  config?: string | undefined;
  control?: string | undefined;
  "secrets-file"?: string | undefined;
  user?: string | undefined;
  target?: string | undefined;
  json?: boolean | undefined;
  timeout?: number | undefined;
}

function globalFlags(args: ParsedGlobals): GlobalFlags {
  for (const name of ["config", "control", "secrets-file", "user", "target"] as const) {
    if (Array.isArray(args[name])) throw new UsageError(`--${name} given more than once`);
  }
  return {
    config: args.config,
    control: args.control,
    secretsFile: args["secrets-file"],
    user: args.user,
    target: args.target,
    json: args.json === true,
    timeoutMs: positiveInteger(args.timeout, "--timeout", 0x7fffffff),
  };
}
