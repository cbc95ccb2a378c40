import { childPath } from "./config-path.js";
import type { Problems } from "./config-problems.js";
import { suggest } from "./config-suggest.js";

/**
 * Typed reads of one field of a parsed (and interpolated) JSON object. Each read either returns
 * the value or reports a problem and returns a stand-in (the default, or an empty value), so
 * validation always walks the whole config and reports everything wrong in one go; the caller
 * builds the normalized config only when no problem was reported.
 */
export interface Reader {
  readonly problems: Problems;
  /** Paths of strings that were one `${...}` (config-interpolate.ts): integer fields accept them. */
  readonly whole: ReadonlySet<string>;
  /** Absolute folder of the config file: relative paths resolve against it. */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

export type Fields = Readonly<Record<string, unknown>>;

/** The field `key` if `fields` has it as its own (so "constructor" is never Object's). */
export function field(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

export function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The object at `path`, with every field not in `known` reported (with a did-you-mean). Not an
 * object: a problem "expected <what>", and undefined.
 */
export function readObject(reader: Reader, value: unknown, path: string, what: string, known: readonly string[]): Fields | undefined {
  if (!isObject(value)) {
    reader.problems.expected(path, what, value);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = suggest(key, known);
    reader.problems.add(
      childPath(path, key),
      guess === undefined ? `unknown field, expected one of ${known.join(", ")}` : `unknown field, did you mean "${guess}"?`,
    );
  }
  return value;
}

export interface StringRule {
  /** What the value should be, for messages: "a service name ([A-Za-z_][A-Za-z0-9_.-]*)". */
  readonly what: string;
  readonly pattern?: RegExp;
}

/** An optional string field; undefined when absent or wrong (then reported). */
export function readString(reader: Reader, fields: Fields, parent: string, key: string, rule: StringRule): string | undefined {
  const value = field(fields, key);
  if (value === undefined) return undefined;
  return checkString(reader, value, childPath(parent, key), rule);
}

/** A required string field; "" when absent or wrong (then reported). */
export function requireString(reader: Reader, fields: Fields, parent: string, key: string, rule: StringRule): string {
  const path = childPath(parent, key);
  const value = field(fields, key);
  if (value === undefined) {
    reader.problems.expected(path, `${rule.what} (required)`, undefined);
    return "";
  }
  return checkString(reader, value, path, rule) ?? "";
}

export function checkString(reader: Reader, value: unknown, path: string, rule: StringRule): string | undefined {
  if (typeof value !== "string" || (rule.pattern !== undefined && !rule.pattern.test(value))) {
    reader.problems.expected(path, rule.what, value);
    return undefined;
  }
  return value;
}

/**
 * An integer field from `min` to `max`; `fallback` when absent or wrong (then reported). A string
 * that was exactly one `${...}` and reads as a decimal integer is taken as that integer.
 */
export function readInteger(reader: Reader, fields: Fields, parent: string, key: string, min: number, max: number, fallback: number): number {
  const value = field(fields, key);
  if (value === undefined) return fallback;
  return checkInteger(reader, value, childPath(parent, key), min, max) ?? fallback;
}

/** An optional integer without a default: undefined when absent or wrong (then reported). */
export function readOptionalInteger(reader: Reader, fields: Fields, parent: string, key: string, min: number, max: number): number | undefined {
  const value = field(fields, key);
  if (value === undefined) return undefined;
  return checkInteger(reader, value, childPath(parent, key), min, max);
}

export function checkInteger(reader: Reader, value: unknown, path: string, min: number, max: number): number | undefined {
  const number = typeof value === "string" && reader.whole.has(path) && /^-?[0-9]{1,16}$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
    reader.problems.expected(path, `an integer from ${min} to ${max}`, value);
    return undefined;
  }
  return number;
}

/** One of `allowed`; `fallback` when absent or wrong (then reported, listing the allowed values). */
export function readChoice<T extends string>(reader: Reader, fields: Fields, parent: string, key: string, allowed: readonly T[], fallback: T): T {
  const value = field(fields, key);
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    reader.problems.expected(childPath(parent, key), `one of ${allowed.map((choice) => JSON.stringify(choice)).join(", ")}`, value);
    return fallback;
  }
  return value as T;
}

/** An array field whose elements are checked by `element`; undefined when absent or not an array (then reported). */
export function readArray<T>(
  reader: Reader,
  fields: Fields,
  parent: string,
  key: string,
  what: string,
  element: (value: unknown, path: string, index: number) => T | undefined,
): T[] | undefined {
  const value = field(fields, key);
  if (value === undefined) return undefined;
  const path = childPath(parent, key);
  if (!Array.isArray(value)) {
    reader.problems.expected(path, what, value);
    return undefined;
  }
  const result: T[] = [];
  value.forEach((item, index) => {
    const checked = element(item, childPath(path, index), index);
    if (checked !== undefined) result.push(checked);
  });
  return result;
}

/** An array (`what`: "an array of method names") of strings following `rule`; `fallback` when absent. */
export function readStrings(
  reader: Reader,
  fields: Fields,
  parent: string,
  key: string,
  what: string,
  rule: StringRule,
  fallback: readonly string[],
): readonly string[] {
  return readArray(reader, fields, parent, key, what, (value, path) => checkString(reader, value, path, rule)) ?? fallback;
}

const ENV_NAME = /^[^=\0]+$/;

/** An environment map: `{ "NAME": "value" }`, names without "=" or NUL, values strings. {} when absent. */
export function readEnv(reader: Reader, fields: Fields, parent: string, key: string): Readonly<Record<string, string>> {
  const value = field(fields, key);
  if (value === undefined) return {};
  const path = childPath(parent, key);
  if (!isObject(value)) {
    reader.problems.expected(path, 'an object of environment variables { "NAME": "value" }', value);
    return {};
  }
  const env: Record<string, string> = {};
  for (const [name, entry] of Object.entries(value)) {
    const entryPath = childPath(path, name);
    if (!ENV_NAME.test(name)) {
      reader.problems.add(entryPath, 'expected an environment variable name (not empty, no "=" or NUL)');
      continue;
    }
    const text = checkString(reader, entry, entryPath, { what: "a string (environment values are strings: quote numbers)", pattern: /^[^\0]*$/ });
    if (text !== undefined) Object.defineProperty(env, name, { value: text, writable: true, enumerable: true, configurable: true });
  }
  return env;
}
