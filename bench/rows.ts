// The rows of the benchmark table: which server and client run, how the client calls, over which
// transports each row exists, the baseline its ratios compare against, and in which order a round
// measures them (implementations interleaved, so machine noise hits all alike).
import type { CallMode } from "./child-protocol.js";
import type { ImplementationName } from "./impl/load.js";
import { DATAGRAM_TRANSPORTS, TRANSPORT_NAMES, type TransportName } from "./impl/implementation.js";

/**
 * What `--only` selects: an implementation, msf's blocking calls ("msf-sync"), or msf with CHAP
 * authentication on every connection ("msf-auth").
 */
export const ROW_KINDS = ["raw", "msf", "msf-sync", "msf-auth", "grpc"] as const;
export type RowKind = (typeof ROW_KINDS)[number];

export const TRANSPORTS: readonly TransportName[] = TRANSPORT_NAMES;
export const IN_FLIGHT_LEVELS = [1, 64] as const;

export interface Scenario {
  readonly kind: RowKind;
  readonly transport: TransportName;
  readonly inFlight: number;
  /** The implementation both processes run. */
  readonly impl: ImplementationName;
  readonly mode: CallMode;
}

export function scenarioKey(s: Pick<Scenario, "kind" | "transport" | "inFlight">): string {
  return `${s.kind}/${s.transport}/${s.inFlight}`;
}

/**
 * Whether a row kind runs over a transport: raw node:net and grpc-js have no datagram transport,
 * and msf-auth is measured over the stream transports only (unix, tcp).
 */
export function kindRunsOver(kind: RowKind, transport: TransportName): boolean {
  if (!DATAGRAM_TRANSPORTS.includes(transport)) return true;
  return kind === "msf" || kind === "msf-sync";
}

/** The row a row's ratios are divided by: which kind over which transport, at the same in-flight level. */
export interface Baseline {
  readonly kind: RowKind;
  readonly transport: TransportName;
}

/**
 * msf-auth compares against msf without authentication (same transport): the cost of CHAP. Rows
 * over udp and netlink compare against raw over unix, the fastest local baseline (raw has no
 * datagram transport). Every other row compares against raw over its own transport.
 */
export function baselineOf(kind: RowKind, transport: TransportName): Baseline {
  if (kind === "msf-auth") return { kind: "msf", transport };
  if (DATAGRAM_TRANSPORTS.includes(transport)) return { kind: "raw", transport: "unix" };
  return { kind: "raw", transport };
}

/**
 * One round's scenarios, in the order measured: per transport, per in-flight level, the rows in
 * the order raw, msf, msf-sync, msf-auth, grpc rotated by `round` (0-based), so that no
 * implementation is always the first measured after a change of scenario. Round 0's order is the
 * table's order. Blocking calls exist only at 1 in flight (one caller thread).
 */
export function roundScenarios(kinds: readonly RowKind[], transports: readonly TransportName[], round = 0): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const transport of transports) {
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const group: Scenario[] = [];
      for (const kind of ROW_KINDS) {
        if (!kinds.includes(kind) || !kindRunsOver(kind, transport)) continue;
        if (kind === "msf-sync" && inFlight !== 1) continue;
        group.push({
          kind,
          transport,
          inFlight,
          impl: kind === "msf-sync" ? "msf" : kind,
          mode: kind === "msf-sync" ? "sync" : "async",
        });
      }
      const shift = group.length === 0 ? 0 : round % group.length;
      scenarios.push(...group.slice(shift), ...group.slice(0, shift));
    }
  }
  return scenarios;
}
