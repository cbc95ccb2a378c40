import { inspect } from "node:util";
import { systemClock, type AuthClock } from "./auth-clock.js";
import { AuthKey } from "./auth-key.js";
import { checkName } from "./auth-messages.js";
import { keyFromEntry, type Secret } from "./credentials.js";
import { positive } from "./server-auth.js";

/** A client's authentication settings, as a user writes them (`createChannel(uri, { auth: ... })`). */
export interface ClientAuthOptions {
  /** The name the client authenticates as. */
  readonly name: string;
  /** The shared secret (string = UTF-8). Give either this or `key`. */
  readonly secret?: Secret;
  /** The derived key (32 bytes, or 64 hex digits / base64), as in a secrets file's `{ key }`. */
  readonly key?: string | Uint8Array;
  /** Require the server to prove it knows this client's key. Default true. */
  readonly mutual?: boolean;
  /** Refuse a server whose CHALLENGE names another server. Default: accept any name. */
  readonly serverName?: string;
  /** Time from connect to a successful handshake. Default 10 000 ms. */
  readonly handshakeTimeoutMs?: number;
  readonly clock?: AuthClock;
}

/**
 * A client's resolved authentication settings, key derived. Build one per channel (deriving is
 * deliberately slow) and start a clientHandshake from it per connection. inspect/JSON show no key.
 */
export class ClientAuth {
  readonly name: string;
  readonly key: AuthKey;
  readonly mutual: boolean;
  readonly serverName: string | undefined;
  readonly handshakeTimeoutMs: number;
  readonly clock: AuthClock;

  constructor(options: ClientAuthOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("client auth must be an object { name, secret }");
    }
    const problem = checkName("client auth name", options.name);
    if (problem !== undefined) throw new RangeError(problem);
    this.name = options.name;
    if ((options.secret === undefined) === (options.key === undefined)) {
      throw new TypeError(`client auth for "${options.name}" needs exactly one of secret and key`);
    }
    this.key =
      options.secret !== undefined
        ? keyFromEntry(options.name, options.secret, `client auth secret for "${options.name}"`)
        : AuthKey.fromDerived(`client auth key for "${options.name}"`, options.key!);
    this.mutual = options.mutual ?? true;
    if (options.serverName !== undefined) {
      const serverProblem = checkName("client auth serverName", options.serverName);
      if (serverProblem !== undefined) throw new RangeError(serverProblem);
    }
    this.serverName = options.serverName;
    this.handshakeTimeoutMs = positive("handshakeTimeoutMs", options.handshakeTimeoutMs ?? 10_000);
    this.clock = options.clock ?? systemClock;
  }

  toString(): string {
    return `ClientAuth(${this.name}, key redacted)`;
  }
  toJSON(): object {
    return {
      name: this.name,
      mutual: this.mutual,
      ...(this.serverName !== undefined && { serverName: this.serverName }),
      handshakeTimeoutMs: this.handshakeTimeoutMs,
    };
  }
  [inspect.custom](): string {
    return `ClientAuth ${JSON.stringify(this.toJSON())}`;
  }
}

/** Resolves options into a ClientAuth (derives the key now). */
export function createClientAuth(options: ClientAuthOptions | ClientAuth): ClientAuth {
  return options instanceof ClientAuth ? options : new ClientAuth(options);
}
