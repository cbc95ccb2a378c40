/**
 * Command-line rewriting done before yargs sees the arguments.
 *
 * `-c` is the global `--config`, but `msf bench ... -c 64` is the concurrency (as with ab, wrk and
 * ghz). yargs cannot give one letter two meanings, so a `-c` that comes after the word `bench` is
 * rewritten to `--concurrency`; before it (`msf -c msf.json bench ...`) it stays the config.
 * Within bench, the config is given as `--config`.
 */

/**
 * A lone `-` (stdin) as a positional comes out of yargs as "" or true; it is passed through as
 * this token instead, which parsePayloadSource reads as stdin.
 */
export const STDIN_TOKEN = "\u0000stdin";

/** `-` arguments (before a `--`) replaced by STDIN_TOKEN. */
export function protectStdinDash(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, index) => (arg === "-" && (end < 0 || index < end) ? STDIN_TOKEN : arg));
}

/** Global options that take a value: their value is not the command word. */
const VALUE_OPTIONS = new Set(["-c", "--config", "--control", "--secrets-file", "--user", "--timeout", "--target"]);

export function rewriteBenchFlags(argv: readonly string[]): string[] {
  const command = commandIndex(argv);
  if (command < 0 || argv[command] !== "bench") return [...argv];
  const out = argv.slice(0, command + 1);
  let passthrough = false;
  for (const arg of argv.slice(command + 1)) {
    if (passthrough || arg === "--") {
      passthrough = true;
      out.push(arg);
    } else if (arg === "-c") {
      out.push("--concurrency");
    } else if (arg.startsWith("-c=")) {
      out.push(`--concurrency=${arg.slice(3)}`);
    } else if (/^-c\d/.test(arg)) {
      out.push(`--concurrency=${arg.slice(2)}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Index of the first positional argument (the command word), -1 when there is none. */
function commandIndex(argv: readonly string[]): number {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === "--") return index + 1 < argv.length ? index + 1 : -1;
    if (!arg.startsWith("-") || arg === "-") return index;
    if (VALUE_OPTIONS.has(arg)) index++;
  }
  return -1;
}
