import { ConfigError } from "./config-error.js";
import { childPath } from "./config-path.js";

/**
 * A strict JSON parser (RFC 8259) that knows where it is, so a config's syntax error reads
 * `msf.json:12:5: <what>, expected <what>` instead of V8's "Unexpected token at position 312".
 * It also keeps what JSON.parse throws away and the error messages need: the source text of each
 * number (1e309 parses to Infinity, 1.50 to 1.5), and keys repeated in an object (JSON.parse keeps
 * the last silently; here it is a problem). Objects are built with defineProperty, so a
 * "__proto__" key is an ordinary field, as with JSON.parse.
 */
export interface JsonDocument {
  readonly value: unknown;
  /** The source text of every number, by path (see config-path.ts). */
  readonly numberText: ReadonlyMap<string, string>;
  /** Problems that do not stop parsing (repeated keys), as complete messages. */
  readonly problems: readonly string[];
}

/** Parses `text`; throws ConfigError with one `file:line:column: <what>` problem at the first syntax error. */
export function parseJson(text: string, file: string): JsonDocument {
  return new JsonParser(text, file).document();
}

/** Deeper nesting is refused rather than left to overflow the stack. */
const MAX_DEPTH = 256;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class JsonParser {
  readonly #text: string;
  readonly #file: string;
  #pos = 0;
  readonly #numberText = new Map<string, string>();
  readonly #problems: string[] = [];

  constructor(text: string, file: string) {
    // A UTF-8 byte order mark is not JSON, but editors write one; it carries no content.
    this.#text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.#file = file;
  }

  document(): JsonDocument {
    this.#skipSpace();
    if (this.#pos >= this.#text.length) throw this.#error(this.#pos, "the file is empty, expected a JSON object");
    const value = this.#value("", 0);
    this.#skipSpace();
    if (this.#pos < this.#text.length) {
      throw this.#error(this.#pos, `unexpected ${this.#describeHere()} after the end of the JSON value`);
    }
    return { value, numberText: this.#numberText, problems: this.#problems };
  }

  #value(path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw this.#error(this.#pos, `nesting deeper than ${MAX_DEPTH} levels`);
    const char = this.#text[this.#pos];
    switch (char) {
      case "{":
        return this.#object(path, depth);
      case "[":
        return this.#array(path, depth);
      case '"':
        return this.#string();
      case undefined:
        throw this.#error(this.#pos, "unexpected end of the file, expected a value");
    }
    if (char === "-" || (char >= "0" && char <= "9")) return this.#number(path);
    WORD.lastIndex = this.#pos;
    const word = WORD.exec(this.#text)?.[0];
    if (word === "true" || word === "false" || word === "null") {
      this.#pos += word.length;
      return word === "null" ? null : word === "true";
    }
    if (word !== undefined) {
      throw this.#error(this.#pos, `unexpected word ${JSON.stringify(word)}, expected a value (strings are written in double quotes)`);
    }
    throw this.#error(this.#pos, `unexpected ${this.#describeHere()}, expected a value`);
  }

  #object(path: string, depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    this.#pos++;
    this.#skipSpace();
    if (this.#text[this.#pos] === "}") {
      this.#pos++;
      return object;
    }
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] !== '"') {
        const trailing = this.#text[this.#pos] === "}" && seen.size > 0;
        throw this.#error(
          this.#pos,
          trailing
            ? `unexpected "}" after ",": JSON allows no trailing comma`
            : `unexpected ${this.#describeHere()}, expected a field name in double quotes`,
        );
      }
      const keyAt = this.#pos;
      const key = this.#string();
      const first = seen.get(key);
      if (first !== undefined) {
        this.#problems.push(`${this.#where(keyAt)}: field ${JSON.stringify(key)} appears twice in this object (first at ${this.#lineColumn(first)})`);
      } else {
        seen.set(key, keyAt);
      }
      this.#skipSpace();
      this.#expect(":", `after the field name ${JSON.stringify(key)}`);
      this.#skipSpace();
      const value = this.#value(childPath(path, key), depth + 1);
      Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      this.#skipSpace();
      if (this.#text[this.#pos] === ",") {
        this.#pos++;
        continue;
      }
      this.#expect("}", "or \",\" after a field's value");
      return object;
    }
  }

  #array(path: string, depth: number): unknown[] {
    const array: unknown[] = [];
    this.#pos++;
    this.#skipSpace();
    if (this.#text[this.#pos] === "]") {
      this.#pos++;
      return array;
    }
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] === "]" && array.length > 0) {
        throw this.#error(this.#pos, `unexpected "]" after ",": JSON allows no trailing comma`);
      }
      array.push(this.#value(childPath(path, array.length), depth + 1));
      this.#skipSpace();
      if (this.#text[this.#pos] === ",") {
        this.#pos++;
        continue;
      }
      this.#expect("]", "or \",\" after an array element");
      return array;
    }
  }

  #string(): string {
    const start = this.#pos;
    this.#pos++;
    let result = "";
    let chunkStart = this.#pos;
    for (;;) {
      const code = this.#text.charCodeAt(this.#pos);
      if (Number.isNaN(code)) throw this.#error(start, "unterminated string (no closing double quote)");
      if (code === 0x22) {
        result += this.#text.slice(chunkStart, this.#pos);
        this.#pos++;
        return result;
      }
      if (code < 0x20) {
        if (code === 0x0a) throw this.#error(start, "unterminated string (a line ends before its closing double quote)");
        throw this.#error(this.#pos, `control character U+${code.toString(16).padStart(4, "0").toUpperCase()} in a string, expected it escaped`);
      }
      if (code !== 0x5c) {
        this.#pos++;
        continue;
      }
      result += this.#text.slice(chunkStart, this.#pos);
      const escape = this.#text[this.#pos + 1];
      if (escape === "u") {
        const hex = this.#text.slice(this.#pos + 2, this.#pos + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw this.#error(this.#pos, "invalid escape, expected \\u and 4 hex digits");
        result += String.fromCharCode(Number.parseInt(hex, 16));
        this.#pos += 6;
      } else if (escape !== undefined && ESCAPES[escape] !== undefined) {
        result += ESCAPES[escape];
        this.#pos += 2;
      } else {
        throw this.#error(this.#pos, `invalid escape "\\${escape ?? ""}", expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`);
      }
      chunkStart = this.#pos;
    }
  }

  #number(path: string): number {
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(this.#text);
    const next = match === null ? undefined : this.#text[this.#pos + match[0].length];
    if (match === null || (next !== undefined && /[0-9A-Za-z_.+-]/.test(next))) {
      const token = /^[-+0-9A-Za-z_.]+/.exec(this.#text.slice(this.#pos))?.[0] ?? this.#text[this.#pos]!;
      throw this.#error(this.#pos, `invalid number ${JSON.stringify(token)}, expected a JSON number such as 42, -1.5 or 2e3`);
    }
    this.#pos += match[0].length;
    this.#numberText.set(path, match[0]);
    return Number(match[0]);
  }

  #expect(char: string, context: string): void {
    if (this.#text[this.#pos] === char) {
      this.#pos++;
      return;
    }
    const found = this.#pos >= this.#text.length ? "end of the file" : this.#describeHere();
    throw this.#error(this.#pos, `unexpected ${found}, expected "${char}" ${context}`);
  }

  #skipSpace(): void {
    for (;;) {
      const char = this.#text[this.#pos];
      if (char === " " || char === "\t" || char === "\n" || char === "\r") {
        this.#pos++;
      } else if (char === "/" && (this.#text[this.#pos + 1] === "/" || this.#text[this.#pos + 1] === "*")) {
        throw this.#error(this.#pos, "comments are not allowed in JSON");
      } else {
        return;
      }
    }
  }

  #describeHere(): string {
    const code = this.#text.codePointAt(this.#pos);
    if (code === undefined) return "end of the file";
    const char = String.fromCodePoint(code);
    return code < 0x20 || code === 0x7f ? `character U+${code.toString(16).padStart(4, "0").toUpperCase()}` : JSON.stringify(char);
  }

  #lineColumn(offset: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (this.#text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return `${line}:${offset - lineStart + 1}`;
  }

  #where(offset: number): string {
    return `${this.#file}:${this.#lineColumn(offset)}`;
  }

  #error(offset: number, what: string): ConfigError {
    return new ConfigError([`${this.#where(offset)}: ${what}`]);
  }
}
