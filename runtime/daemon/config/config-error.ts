/**
 * Why a config was refused. `problems` holds every problem found (not only the first), each a
 * complete line that starts with the file: `msf.json:3:7: <what>` for JSON syntax,
 * `msf.json: proc_svcs[1].instances: expected an integer from 1 to 256, got "two"` for content.
 * `message` is the problems joined by newlines.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.problems = [...problems];
  }
}
