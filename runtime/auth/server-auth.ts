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
  /**
   * Connections that may be authenticating at once (challenged, not yet authenticated or
   * failed), all connections of the servers sharing this ServerAuth together. A connection
   * beyond it is refused at once with FAILURE ("too many connections are authenticating")
   * and closed, reason OVERLOADED. With handshakeTimeoutMs this bounds what a flood of
   * connections that never authenticate can hold. Default 1000.
   */
  readonly maxPendingHandshakes?: number;
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
  readonly maxPendingHandshakes: number;
  readonly rechallengeIntervalMs: number;
  readonly rechallengeTimeoutMs: number;
  readonly throttle: FailureThrottle | undefined;
  readonly clock: AuthClock;
  #pendingHandshakes = 0;

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
    this.maxPendingHandshakes = positiveInteger("maxPendingHandshakes", options.maxPendingHandshakes ?? 1000);
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

  /** Handshakes in progress now (ServerAuthGuard counts them between start() and its outcome). */
  get pendingHandshakes(): number {
    return this.#pendingHandshakes;
  }

  /**
   * Reserves a place for one handshake; false when maxPendingHandshakes are in progress. Every
   * true must be matched by one handshakeEnded().
   */
  handshakeStarted(): boolean {
    if (this.#pendingHandshakes >= this.maxPendingHandshakes) return false;
    this.#pendingHandshakes++;
    return true;
  }

  handshakeEnded(): void {
    if (this.#pendingHandshakes > 0) this.#pendingHandshakes--;
  }

  toString(): string {
    return `ServerAuth(${this.serverName}, ${this.credentials.size} names, keys redacted)`;
  }
  toJSON(): object {
    return {
      serverName: this.serverName,
      names: this.credentials.names,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      maxPendingHandshakes: this.maxPendingHandshakes,
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

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`auth option ${name} must be an integer >= 1, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`auth option ${name} must be a number >= 0, got ${value}`);
  return value;
}
