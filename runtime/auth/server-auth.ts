import { inspect } from "node:util";
import { systemClock, type AuthClock } from "./auth-clock.js";
import { checkName } from "./auth-messages.js";
import { CredentialStore, type Credentials } from "./credentials.js";
import { FailureThrottle, type FailureThrottleOptions } from "./failure-throttle.js";

/** A server's authentication settings, as a user writes them (`new Server({ auth: ... })`). */
export interface ServerAuthOptions {
  /** Client name → secret (string or bytes) or `{ key: "<hex or base64 derived key>" }`. */
  readonly credentials?: Credentials;
  /** Path of a JSON secrets file of the same shape; must not be accessible to group or others. */
  readonly secretsFile?: string;
  /** The name this server gives in CHALLENGE; bound into every MAC. Default "msf". */
  readonly serverName?: string;
  /** Time from connect to a successful handshake. Default 10 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Period between re-challenges of an authenticated connection; 0 turns them off. Default 300 000 ms. */
  readonly rechallengeIntervalMs?: number;
  /** Time a client has to answer a re-challenge. Default 10 000 ms. */
  readonly rechallengeTimeoutMs?: number;
  /** Failure throttling: a shared FailureThrottle, its options, or false for none. Default: on, defaults. */
  readonly throttle?: FailureThrottle | FailureThrottleOptions | false;
  /** Time source (tests). Default: the system's monotonic clock. */
  readonly clock?: AuthClock;
}

/**
 * A server's resolved authentication settings: keys derived, throttle built. Build one per server
 * (not per connection): deriving keys is deliberately slow, and the throttle must see every
 * connection of the server to count a peer's failures. inspect/JSON show no key.
 */
export class ServerAuth {
  readonly credentials: CredentialStore;
  readonly serverName: string;
  readonly handshakeTimeoutMs: number;
  readonly rechallengeIntervalMs: number;
  readonly rechallengeTimeoutMs: number;
  readonly throttle: FailureThrottle | undefined;
  readonly clock: AuthClock;

  constructor(options: ServerAuthOptions) {
    if (options.credentials === undefined && options.secretsFile === undefined) {
      throw new TypeError("server auth needs credentials or a secretsFile: { credentials: { name: secret } }");
    }
    this.credentials = CredentialStore.create({ credentials: options.credentials, secretsFile: options.secretsFile });
    if (this.credentials.size === 0) {
      const where = options.secretsFile === undefined ? "the credentials option" : `secrets file ${options.secretsFile}`;
      throw new RangeError(`server auth has no credentials: ${where} names no client, so nobody could connect`);
    }
    this.serverName = options.serverName ?? "msf";
    const problem = checkName("serverName", this.serverName);
    if (problem !== undefined) throw new RangeError(problem);
    this.handshakeTimeoutMs = positive("handshakeTimeoutMs", options.handshakeTimeoutMs ?? 10_000);
    this.rechallengeIntervalMs = nonNegative("rechallengeIntervalMs", options.rechallengeIntervalMs ?? 300_000);
    this.rechallengeTimeoutMs = positive("rechallengeTimeoutMs", options.rechallengeTimeoutMs ?? 10_000);
    this.clock = options.clock ?? systemClock;
    const throttle = options.throttle ?? {};
    this.throttle =
      throttle === false
        ? undefined
        : throttle instanceof FailureThrottle
          ? throttle
          : new FailureThrottle({ clock: this.clock, ...throttle });
  }

  toString(): string {
    return `ServerAuth(${this.serverName}, ${this.credentials.size} names, keys redacted)`;
  }
  toJSON(): object {
    return {
      serverName: this.serverName,
      names: this.credentials.names,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      rechallengeIntervalMs: this.rechallengeIntervalMs,
      rechallengeTimeoutMs: this.rechallengeTimeoutMs,
      throttle: this.throttle !== undefined,
    };
  }
  [inspect.custom](): string {
    return `ServerAuth ${JSON.stringify(this.toJSON())}`;
  }
}

/** Resolves options into a ServerAuth (derives every key now). Throws on bad settings or files. */
export function createServerAuth(options: ServerAuthOptions | ServerAuth): ServerAuth {
  return options instanceof ServerAuth ? options : new ServerAuth(options);
}

export function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`auth option ${name} must be a number > 0, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`auth option ${name} must be a number >= 0, got ${value}`);
  return value;
}
