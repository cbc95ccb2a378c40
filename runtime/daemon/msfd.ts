#!/usr/bin/env node
/**
 * msfd: the msf daemon. `msfd -c msf.json` loads the config (the seed's format, extended; see
 * docs/daemon.md), starts every service as supervised plugin instances, serves the broker and
 * the control socket, and prints `msfd ready <broker addresses>` on stdout once everything is up.
 *
 * Signals: SIGHUP reloads the config (as `msf reload`); SIGTERM and SIGINT stop gracefully.
 * The config file is also watched: a change is reloaded after it settles (--no-watch to turn off).
 * Exit codes: 0 after a graceful stop, 1 when the config is invalid or msfd cannot start, 2 on
 * a usage error.
 */
import { watch, type FSWatcher } from "node:fs";
import { hideBin } from "yargs/helpers";
import yargs from "yargs";
import { ConfigError, loadConfig } from "./config/index.js";
import { Daemon } from "./daemon.js";
import { createLogger } from "./logger.js";

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** A config file write often comes as several events; reload once they stop for this long. */
const WATCH_SETTLE_MS = 200;

async function main(argv: readonly string[]): Promise<void> {
  const args = yargs([...argv])
    .scriptName("msfd")
    .usage("$0 -c msf.json\n\nRuns the services of msf.json as supervised plugins, routes calls to them by name, carries events.")
    .option("config", { alias: "c", describe: "the daemon's config file (msf.json)", type: "string", requiresArg: true, demandOption: true })
    .option("log-level", { describe: "overrides the config's log.level", choices: ["fatal", "error", "warn", "info", "debug", "trace"] as const })
    .option("watch", { describe: "reload when the config file changes", type: "boolean", default: true })
    .version(false)
    .help()
    .alias("help", "h")
    .strictOptions()
    .wrap(null)
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      process.stderr.write(`msfd: ${message}\nRun msfd --help for usage.\n`);
      process.exit(EXIT_USAGE);
    })
    .parseSync();
  if (Array.isArray(args.config)) usage("-c takes one config file");

  // The config is read once here for the log settings; Daemon.start reads and checks it again.
  let logSettings;
  try {
    const config = await loadConfig(args.config);
    logSettings = { level: args["log-level"] ?? config.log.level, file: config.log.file, name: config.proc.name };
  } catch (error) {
    fail(error);
  }
  const log = createLogger(logSettings);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(args.config, log);
  } catch (error) {
    log.fatal({ err: error instanceof Error ? error.message : String(error) }, "msfd could not start");
    log.flush();
    fail(error);
  }

  const reload = (why: string): void => {
    log.info({ why }, "reloading the config");
    daemon.reload().catch(() => {
      // Logged by the daemon; the running config is kept.
    });
  };
  let watcher: FSWatcher | undefined;
  if (args.watch) {
    let settle: NodeJS.Timeout | undefined;
    watcher = watch(args.config, () => {
      if (settle !== undefined) clearTimeout(settle);
      settle = setTimeout(() => reload("the config file changed"), WATCH_SETTLE_MS);
    });
  }
  process.on("SIGHUP", () => reload("SIGHUP"));
  const stop = (signal: string): void => {
    log.info({ signal }, "stop requested");
    watcher?.close();
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: String(error) }, "stop failed");
        log.flush();
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  process.stdout.write(`msfd ready ${daemon.listen.join(" ")}\n`);
}

function usage(message: string): never {
  process.stderr.write(`msfd: ${message}\nRun msfd --help for usage.\n`);
  process.exit(EXIT_USAGE);
}

function fail(error: unknown): never {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`msfd: ${message}\n`);
  process.exit(EXIT_FAILED);
}

await main(hideBin(process.argv));
