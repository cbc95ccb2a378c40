/**
 * The datagram layer's clocks (docs/protocol.md, "Datagram transports", states them as the
 * contract between client and server).
 *
 * Retransmission: a request (and an unanswered handshake frame, and CONNECT) is sent again
 * FIRST_RETRANSMIT_MS after it was sent if no answer came, then after doubling intervals capped at
 * MAX_RETRANSMIT_INTERVAL_MS: at 20, 60, 140, 300, 620, 1260, 2260, 3260, ... ms. A request is not
 * sent again once its deadline is closer than the next interval, nor once RETRANSMIT_HORIZON_MS
 * have passed since it was first sent (a call without a deadline then waits for its reply
 * without retransmitting).
 *
 * De-duplication: the server keeps what it knows of each request (running, answered with this
 * reply, cancelled) until the client acknowledges that it has the reply, and an answered entry at
 * most DEDUP_WINDOW_MS after it was answered. Since no copy of a request is sent later than
 * RETRANSMIT_HORIZON_MS after the first, and the first copy the server sees is never earlier than
 * that, every copy the client sends arrives while its entry is still there (with
 * DEDUP_WINDOW_MS - RETRANSMIT_HORIZON_MS of margin for datagrams delayed in the network).
 */
export const FIRST_RETRANSMIT_MS = 20;
export const MAX_RETRANSMIT_INTERVAL_MS = 1000;
export const RETRANSMIT_HORIZON_MS = 30_000;
export const DEDUP_WINDOW_MS = 35_000;
/** Most entries one peer's reply cache holds; beyond it the oldest answered ones are forgotten (counted as cacheEvicted). */
export const MAX_CACHED_PER_PEER = 16_384;

/** A client connection with no call outstanding and no datagram either way for this long closes itself (sending CLOSE). */
export const CLIENT_IDLE_MS = 30_000;
/**
 * A server connection with no call running and no datagram from its peer for this long is
 * forgotten. Longer than DEDUP_WINDOW_MS (its cached replies are of no use after that) and than
 * CLIENT_IDLE_MS (a live idle client closes first, politely).
 */
export const SERVER_IDLE_MS = 60_000;
/** How often a listener sweeps its peers (time-outs of cached replies and idle connections). */
export const SWEEP_INTERVAL_MS = 1000;
/** Datagrams kept for a connection whose handler is not installed yet (start() not called); more are dropped. */
export const MAX_EARLY_DATAGRAMS = 256;

/** The next interval after `interval`. */
export function backoff(interval: number): number {
  return Math.min(interval * 2, MAX_RETRANSMIT_INTERVAL_MS);
}
