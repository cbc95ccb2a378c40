import { scryptSync } from "node:crypto";
import { inspect } from "node:util";

/**
 * The key a CHAP peer actually uses: never the secret itself, but
 * scrypt(secret, salt = "msf-chap-v1/" + name, N = 2^14, r = 8, p = 1, 32 bytes).
 *
 * Why derive: the secrets file may hold this key instead of the secret (so a leaked file does not
 * reveal a password reused elsewhere), and a recorded handshake costs an offline guesser one
 * scrypt per guess instead of one HMAC. Why the name in the salt: one secret used by two names
 * gives two unrelated keys. The parameters are part of the protocol (AuthAlgorithm 1): both
 * peers must derive the same bytes. Derivation costs ~70 ms, so it runs once, at load.
 *
 * An AuthKey keeps its bytes in a private field; inspect, JSON and string conversion print
 * "[redacted]", so logging a key (or anything holding one) does not leak it.
 */
export class AuthKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Derives the key for `name` from its secret (a string is taken as UTF-8). */
  static derive(name: string, secret: string | Uint8Array): AuthKey {
    const secretBytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    if (secretBytes.length === 0) throw new RangeError(`the secret for "${name}" is empty`);
    return new AuthKey(new Uint8Array(scryptSync(secretBytes, `${KDF_SALT_PREFIX}${name}`, KEY_BYTES, KDF_PARAMS)));
  }

  /** Wraps an already derived key: 32 bytes, or their hex (64 digits) or base64 text. */
  static fromDerived(what: string, key: string | Uint8Array): AuthKey {
    if (typeof key !== "string") {
      if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a string or a Uint8Array`);
      if (key.length !== KEY_BYTES) throw new RangeError(`${what} is ${key.length} bytes: expected ${KEY_BYTES}`);
      return new AuthKey(Uint8Array.from(key));
    }
    const text = key.trim();
    if (/^[0-9a-fA-F]{64}$/.test(text)) return new AuthKey(new Uint8Array(Buffer.from(text, "hex")));
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    if (/^[A-Za-z0-9+/]{43}=?$/.test(base64)) {
      const bytes = Buffer.from(base64, "base64");
      if (bytes.length === KEY_BYTES) return new AuthKey(new Uint8Array(bytes));
    }
    throw new RangeError(
      `${what} is not a derived key: expected ${KEY_BYTES} bytes as 64 hex digits or 43-44 base64 characters`,
    );
  }

  /** The raw key bytes, for the MAC functions of this folder. Do not log them. */
  static bytesOf(key: AuthKey): Uint8Array {
    return key.#bytes;
  }

  /** The derived key as hex, for writing a secrets file's `{ "key": ... }` entry. */
  static deriveHex(name: string, secret: string | Uint8Array): string {
    return Buffer.from(AuthKey.derive(name, secret).#bytes).toString("hex");
  }

  toString(): string {
    return "AuthKey([redacted])";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "AuthKey([redacted])";
  }
}

export const KEY_BYTES = 32;
export const KDF_SALT_PREFIX = "msf-chap-v1/";
export const KDF_PARAMS = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
