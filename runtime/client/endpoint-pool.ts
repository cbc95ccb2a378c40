import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Endpoint, Transport } from "../transport/transport.js";
import { isLocalEndpoint, thisHost, type HostIdentity } from "./endpoint-locality.js";
import { orderEndpoints, type SelectionRule } from "./endpoint-order.js";
import type { ChannelTarget } from "./endpoint-target.js";

/**
 * A channel's endpoints in order of preference, with what it remembers of each: an endpoint whose
 * connection attempt failed is in backoff for ENDPOINT_BACKOFF_FIRST_MS, doubling with each
 * consecutive failure up to ENDPOINT_BACKOFF_CAP_MS (each ±20 %, so channels that failed together
 * do not retry together); a successful connection clears it. While in backoff an endpoint is tried
 * only after every endpoint that is not (plan()), and a channel connected to a less preferred
 * endpoint moves back to it once its backoff has passed (see MsfChannel).
 * [not thread-safe; owned by one channel]
 */
export const ENDPOINT_BACKOFF_FIRST_MS = 1000;
export const ENDPOINT_BACKOFF_CAP_MS = 30_000;

export interface PoolEntry {
  /** The normalised URI (what Channel.endpoint shows). */
  readonly uri: string;
  readonly transport: Transport;
  readonly endpoint: Endpoint;
  /** Position in the order of preference: 0 is the most preferred. */
  readonly rank: number;
  /** Consecutive failed connection attempts. */
  failures: number;
  /** Date.now() at which the backoff ends; 0 when not in backoff. */
  retryAt: number;
}

/** One failed connection attempt of a pass over the endpoints. */
export interface AttemptFailure {
  readonly entry: PoolEntry;
  readonly error: unknown;
}

export class EndpointPool {
  /** In order of preference. */
  readonly entries: readonly PoolEntry[];

  constructor(
    private readonly target: ChannelTarget,
    rule: SelectionRule,
    host: () => HostIdentity = thisHost,
  ) {
    let ordered = target.endpoints;
    if (ordered.length > 1) {
      // Read the host's addresses once, and only when there is something to order.
      let identity: HostIdentity | undefined;
      const isLocal = (resolved: (typeof ordered)[number]): boolean => isLocalEndpoint(resolved.endpoint, (identity ??= host()));
      ordered = orderEndpoints(
        ordered.map((resolved) => ({ ...resolved, scheme: resolved.endpoint.scheme, uri: resolved.endpoint.uri })),
        rule,
        isLocal,
      );
    }
    this.entries = ordered.map((resolved, rank) => ({
      uri: resolved.endpoint.uri,
      transport: resolved.transport,
      endpoint: resolved.endpoint,
      rank,
      failures: 0,
      retryAt: 0,
    }));
  }

  /** The order a connection attempt starting at `now` tries: entries not in backoff, then those in backoff; each in preference order. */
  plan(now: number): PoolEntry[] {
    const ready: PoolEntry[] = [];
    const waiting: PoolEntry[] = [];
    for (const entry of this.entries) (entry.retryAt <= now ? ready : waiting).push(entry);
    return ready.length === this.entries.length ? ready : [...ready, ...waiting];
  }

  failed(entry: PoolEntry, now: number): void {
    entry.failures++;
    const step = Math.min(ENDPOINT_BACKOFF_CAP_MS, ENDPOINT_BACKOFF_FIRST_MS * 2 ** (entry.failures - 1));
    entry.retryAt = now + step * (0.8 + 0.4 * Math.random());
  }

  succeeded(entry: PoolEntry): void {
    entry.failures = 0;
    entry.retryAt = 0;
  }

  /** Entries preferred over `current` whose backoff has passed at `now`, in preference order. */
  betterReady(current: PoolEntry, now: number): PoolEntry[] {
    return this.entries.slice(0, current.rank).filter((entry) => entry.retryAt <= now);
  }

  /** When the first endpoint preferred over `current` leaves its backoff; undefined when `current` is the most preferred. */
  betterRetryAt(current: PoolEntry): number | undefined {
    let earliest: number | undefined;
    for (let rank = 0; rank < current.rank; rank++) {
      const retryAt = this.entries[rank]!.retryAt;
      if (earliest === undefined || retryAt < earliest) earliest = retryAt;
    }
    return earliest;
  }

  /**
   * The error for calls when a pass found no endpoint that answers: with one endpoint, its own
   * error (as a channel to one URI has always reported it); with several, UNAVAILABLE listing each
   * endpoint tried and why it failed, in the order tried.
   */
  unreachable(failures: readonly AttemptFailure[]): RpcError {
    if (this.entries.length === 1 && failures.length === 1) return RpcError.from(failures[0]!.error, Code.UNAVAILABLE);
    const reasons = failures.map(({ entry, error }) => {
      const reason = error instanceof RpcError ? error.rawMessage : error instanceof Error ? error.message : String(error);
      return reason.includes(entry.uri) ? reason : `${entry.uri}: ${reason}`;
    });
    return new RpcError(
      Code.UNAVAILABLE,
      `none of the ${this.entries.length} endpoints of target "${this.target.display}" could be reached: ${reasons.join("; ")}`,
    );
  }
}
