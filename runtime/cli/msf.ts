#!/usr/bin/env node
/**
 * msf: the operator's CLI for msfd, over its control socket (idl/msf/control.proto).
 *
 *   msf status | call <service>.<method> '<json>' | reload [service] | load <service> |
 *       unload <service> | events pub <topic> <payload> | events sub <topic> | bench ...
 *
 * Output goes to stdout (tables for people, --json for scripts); errors to stderr as
 * `msf: <message>`. The exit status says what happened: see ExitCode in cli-errors.ts.
 */
import { hideBin } from "yargs/helpers";
import { parseArgs, type Invocation } from "./cli-args.js";
import { ExitCode, UsageError, errorMessage, exitCodeFor } from "./cli-errors.js";
import type { CommandContext } from "./command-context.js";

/**
 * Each command's module is imported when it runs, so `--help`, a usage error or `msf status` do
 * not load what other commands need (the CLI starts often, in scripts).
 */
async function run(invocation: Invocation): Promise<void> {
  const context: CommandContext = {
    flags: invocation.flags,
    out: (text) => void process.stdout.write(text),
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    env: process.env,
  };
  const command = invocation.command;
  switch (command.name) {
    case "status":
      return (await import("./cmd-status.js")).runStatus(context);
    case "call":
      return (await import("./cmd-call.js")).runCall(context, command.method, command.request, command.metadata);
    case "reload":
      return (await import("./cmd-admin.js")).runReload(context, command.service);
    case "load":
      return (await import("./cmd-admin.js")).runLoad(context, command.service);
    case "unload":
      return (await import("./cmd-admin.js")).runUnload(context, command.service);
    case "events pub":
      return (await import("./cmd-events.js")).runPublish(context, command.topic, command.payload, command.key);
    case "events sub":
      return (await import("./cmd-events.js")).runSubscribe(context, command.topic, command.group, command.count);
    case "bench":
      return (await import("./cmd-bench.js")).runBench(context, command);
  }
}

/**
 * Sets the exit status and lets the process end by itself once stdout and stderr are flushed
 * (every command closes its channels; process.exit() here could cut off output still in a pipe).
 */
function finish(error: unknown): void {
  if (error === undefined) {
    process.exitCode = ExitCode.OK;
    return;
  }
  const message = `msf: ${errorMessage(error)}\n`;
  if (error instanceof UsageError) {
    process.stderr.write(error.usage === "" ? `${message}Run msf --help for usage.\n` : `${message}\n${error.usage}\n`);
  } else {
    process.stderr.write(message);
  }
  process.exitCode = exitCodeFor(error);
}

// A reader that went away (msf events sub | head) ends the output, not with an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.OK);
  throw error;
});

try {
  await run(parseArgs(hideBin(process.argv)));
  finish(undefined);
} catch (error) {
  finish(error);
}
