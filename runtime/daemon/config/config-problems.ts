import { showPath } from "./config-path.js";

/**
 * Collects what is wrong with a config, every problem rather than the first, each a complete
 * line: `<file>: <path>: expected <what>, got <value>` (the value as JSON, truncated; a number
 * as it was written in the file).
 */
export class Problems {
  readonly #file: string;
  readonly #numberText: ReadonlyMap<string, string>;
  readonly #quiet: ReadonlySet<string>;
  readonly #list: string[] = [];

  /**
   * `numberText`: the source text of numbers by path (config-json.ts). `quiet`: paths already
   * reported by an earlier stage (a string whose interpolation failed), not reported again.
   */
  constructor(file: string, numberText: ReadonlyMap<string, string>, quiet: ReadonlySet<string>) {
    this.#file = file;
    this.#numberText = numberText;
    this.#quiet = quiet;
  }

  get list(): readonly string[] {
    return this.#list;
  }

  get count(): number {
    return this.#list.length;
  }

  /** A problem at `path`: `<file>: <path>: <message>`. */
  add(path: string, message: string): void {
    if (this.#quiet.has(path)) return;
    this.#list.push(`${this.#file}: ${showPath(path)}: ${message}`);
  }

  /** `<file>: <path>: expected <what>, got <value>[ (<note>)]`. */
  expected(path: string, what: string, got: unknown, note?: string): void {
    // The note may quote the value again (a parser's message): cut too, so a huge value never makes a huge line.
    this.add(path, `expected ${what}, got ${this.show(path, got)}${note === undefined ? "" : ` (${cut(note, MAX_NOTE)})`}`);
  }

  /** A complete message from another stage (JSON syntax), kept as it is. */
  addLine(line: string): void {
    this.#list.push(line);
  }

  /** How the value at `path` is shown in a message. */
  show(path: string, value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "number") {
      const text = this.#numberText.get(path);
      // The number as written, cut like any other value (a config may hold a number of megabytes of digits).
      if (text !== undefined && Number(text) === value) return cut(text);
    }
    return cut(JSON.stringify(value) ?? String(value));
  }
}

const MAX_SHOWN = 60;
const MAX_NOTE = 300;

function cut(shown: string, max = MAX_SHOWN): string {
  return shown.length <= max ? shown : `${shown.slice(0, max - 1)}…`;
}
