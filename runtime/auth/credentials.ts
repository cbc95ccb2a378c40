import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { inspect } from "node:util";
import { AuthKey } from "./auth-key.js";
import { checkName } from "./auth-messages.js";

/** A shared secret: text (taken as UTF-8) or raw bytes. */
export type Secret = string | Uint8Array;

/** One credential: the secret itself, or the key already derived from it (see AuthKey). */
export type CredentialEntry = Secret | { readonly key: string | Uint8Array };

/** name → credential, as given in code (`{ credentials: { name: secret } }`) or a secrets file. */
export type Credentials = Readonly<Record<string, CredentialEntry>>;

/**
 * The keys a server accepts, by client name, derived once when the store is built.
 * inspect/JSON/String show the names only.
 */
export class CredentialStore {
  readonly #keys: ReadonlyMap<string, AuthKey>;

  private constructor(keys: Map<string, AuthKey>) {
    this.#keys = keys;
  }

  /**
   * Builds a store from programmatic credentials and/or a secrets file. A name given in both is
   * an error (which one wins would be a guess).
   */
  static create(options: { credentials?: Credentials | undefined; secretsFile?: string | undefined }): CredentialStore {
    const keys = new Map<string, AuthKey>();
    if (options.credentials !== undefined) {
      addEntries(keys, options.credentials, "credentials option", "credentials option");
    }
    if (options.secretsFile !== undefined) {
      const fromFile = readSecretsFile(options.secretsFile);
      addEntries(keys, fromFile, `secrets file ${options.secretsFile}`, "credentials option");
    }
    return new CredentialStore(keys);
  }

  /** The key for `name`, or undefined. */
  get(name: string): AuthKey | undefined {
    return this.#keys.get(name);
  }

  get names(): string[] {
    return [...this.#keys.keys()];
  }

  get size(): number {
    return this.#keys.size;
  }

  toString(): string {
    return `CredentialStore(${this.#keys.size} names, keys redacted)`;
  }
  toJSON(): { names: string[] } {
    return { names: this.names };
  }
  [inspect.custom](): string {
    return `CredentialStore { names: ${JSON.stringify(this.names)}, keys: [redacted] }`;
  }
}

/**
 * Reads and validates a secrets file: JSON `{ "name": "secret" }` or `{ "name": { "key": "<hex or
 * base64>" } }`. Refuses a file that group or others may access (like ssh with private keys):
 * the error names the file, its mode and the fix. Error messages never quote file content.
 */
export function readSecretsFile(path: string): Credentials {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`cannot open secrets file ${path}: ${code} (${(error as Error).message})`);
  }
  let text: string;
  try {
    // fstat on the opened descriptor: the mode checked is the mode of the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`secrets file ${path} is not a regular file`);
    const mode = stat.mode & 0o777;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new Error(
        `secrets file ${path} has mode 0${mode.toString(8)}: group or others may access it, so its ` +
          `secrets may already be known; refusing to use it. Fix: chmod 600 ${path}`,
      );
    }
    text = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the input, which may be a secret: keep only the position, if any.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new Error(`secrets file ${path} is not valid JSON${position === undefined ? "" : ` (near byte ${position})`}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`secrets file ${path} must hold a JSON object { "name": "secret", ... }, got ${describe(parsed)}`);
  }
  return parsed as Credentials;
}

function addEntries(keys: Map<string, AuthKey>, entries: Credentials, where: string, other: string): void {
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    throw new TypeError(`${where} must be an object { name: secret }, got ${describe(entries)}`);
  }
  for (const [name, entry] of Object.entries(entries)) {
    const problem = checkName(`name ${JSON.stringify(name)} in ${where}`, name);
    if (problem !== undefined) throw new RangeError(problem);
    if (keys.has(name)) throw new Error(`name ${JSON.stringify(name)} is given both in the ${other} and in the ${where}`);
    keys.set(name, keyFromEntry(name, entry, `${where}: entry ${JSON.stringify(name)}`));
  }
}

/** Turns one credential entry into its key. `what` names the entry in errors (never its value). */
export function keyFromEntry(name: string, entry: unknown, what: string): AuthKey {
  if (typeof entry === "string" || entry instanceof Uint8Array) {
    if (entry.length === 0) throw new RangeError(`${what} has an empty secret`);
    return AuthKey.derive(name, entry);
  }
  if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
    const fields = Object.keys(entry);
    const key = (entry as { key?: unknown }).key;
    if (fields.length === 1 && (typeof key === "string" || key instanceof Uint8Array)) {
      return AuthKey.fromDerived(`${what} key`, key);
    }
  }
  throw new TypeError(
    `${what} must be a secret (a string) or { "key": "<hex or base64 of the derived key>" }, got ${describe(entry)}`,
  );
}

/** The type of a value, for errors: never the value itself (it may be a secret). */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object with fields ${JSON.stringify(Object.keys(value))}`;
  return `a ${typeof value}`;
}
