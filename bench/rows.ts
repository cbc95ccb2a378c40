// The rows of the benchmark table: which server and client run, how the client calls, and in
// which order a round measures them (implementations interleaved, so machine noise hits all alike).
import type { CallMode } from "./child-protocol.js";
import type { ImplementationName } from "./impl/load.js";
import type { TransportName } from "./impl/implementation.js";

/** What `--only` selects: an implementation, or msf's blocking calls ("msf-sync"). */
export const ROW_KINDS = ["raw", "msf", "msf-sync", "grpc"] as const;
export type RowKind = (typeof ROW_KINDS)[number];

export const TRANSPORTS: readonly TransportName[] = ["unix", "tcp"];
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
 * One round's scenarios, in the order measured: per transport, per in-flight level, the rows in
 * the order raw, msf, msf-sync, grpc rotated by `round` (0-based), so that no implementation is
 * always the first measured after a change of scenario. Round 0's order is the table's order.
 * Blocking calls exist only at 1 in flight (one caller thread).
 */
export function roundScenarios(kinds: readonly RowKind[], transports: readonly TransportName[], round = 0): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const transport of transports) {
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const group: Scenario[] = [];
      for (const kind of ROW_KINDS) {
        if (!kinds.includes(kind)) continue;
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
