#!/usr/bin/env node
/**
 * msf-gen: .proto files → typed messages (ts-proto), service definitions with handler
 * interfaces (.server.ts), clients (.client.ts), and optionally implementation scaffolds.
 *
 *   msf-gen <file.proto...> -o DIR [-I DIR...] [--impl DIR]
 *
 * Exit status: 0 done; 1 bad input (message on stderr, nothing written); 2 bad usage.
 */
import { isAbsolute, relative } from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { CodegenError } from "./codegen-error.js";
import { packageVersion } from "./package-root.js";

const EXIT_INPUT_ERROR = 1;
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<void> {
  const args = yargs(splitIncludeFlags(argv))
    .scriptName("msf-gen")
    .usage("$0 <file.proto...> -o DIR [-I DIR...] [--impl DIR]\n\nGenerates messages, service definitions, handler interfaces and clients from .proto files.")
    .demandCommand(1, "no .proto file given")
    .option("out", {
      alias: "o",
      describe: "output folder; files mirror each .proto's path under its include folder",
      type: "string",
      requiresArg: true,
      demandOption: true,
    })
    .option("proto_path", {
      alias: ["I", "include"],
      describe: "folder to search for imports (repeatable); each input's own folder is searched after these",
      type: "string",
      requiresArg: true,
    })
    .option("impl", {
      describe: "folder for one <service>.impl.ts scaffold per service; existing files are never overwritten",
      type: "string",
      requiresArg: true,
    })
    .option("runtime-import", {
      describe: 'module specifier generated code imports the runtime from (default "msf"; for code compiled inside msf itself)',
      type: "string",
      requiresArg: true,
    })
    .version(packageVersion())
    .help()
    .alias("help", "h")
    .strictOptions()
    .wrap(null)
    .fail((message, error) => {
      // yargs reports its own validation failures as messages; anything thrown is ours.
      if (error !== undefined && error !== null) throw error;
      usageError(message);
    })
    .parseSync();
  if (Array.isArray(args.out) || Array.isArray(args.impl)) usageError("-o and --impl take one folder each");
  if (Array.isArray(args["runtime-import"])) usageError("--runtime-import takes one module specifier");

  // Loaded only once the arguments are valid: --help, --version and usage errors stay quick.
  const { planGeneration } = await import("./generate.js");
  const { writeFiles } = await import("./emit.js");
  const plan = planGeneration({
    files: args._.map(String),
    includeDirs: toList(args.proto_path),
    outDir: args.out,
    implDir: args.impl,
    runtimeImport: args["runtime-import"],
  });
  if (plan.warnings.trim() !== "") process.stderr.write(plan.warnings.endsWith("\n") ? plan.warnings : `${plan.warnings}\n`);
  const report = writeFiles(plan.files);
  const show = (path: string): string => {
    const fromCwd = relative(process.cwd(), path);
    return fromCwd === "" || fromCwd.startsWith("..") || isAbsolute(fromCwd) ? path : fromCwd;
  };
  for (const path of report.written) process.stdout.write(`wrote ${show(path)}\n`);
  for (const path of report.kept) process.stdout.write(`kept existing ${show(path)}\n`);
  if (report.unchanged.length > 0) process.stdout.write(`${report.unchanged.length} file(s) already up to date\n`);
}

function usageError(message: string): never {
  process.stderr.write(`msf-gen: ${message}\nRun msf-gen --help for usage.\n`);
  process.exit(EXIT_USAGE);
}

/** protoc accepts `-Idir`; yargs would read it as the flags -I, -d, -i, -r. */
function splitIncludeFlags(argv: readonly string[]): string[] {
  return argv.flatMap((arg) => (arg.startsWith("-I") && arg.length > 2 && arg[2] !== "=" ? ["-I", arg.slice(2)] : [arg]));
}

function toList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}

try {
  await main(hideBin(process.argv));
} catch (error) {
  if (error instanceof CodegenError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_INPUT_ERROR);
  }
  throw error;
}
