import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Endpoint } from "../transport/transport.js";

/**
 * Transport selection: the order in which a channel tries the endpoints of a target that lists
 * several (`createChannel(["unix:/run/flight.sock", "tcp://10.0.0.5:7100"])`). A target of one
 * URI is used as it is.
 *
 * "nearest" (the default): endpoints on this host first (endpoint-locality.ts says which), sorted
 * by `transportPreference` (default unix, netlink, tcp, udp; a scheme not listed comes after those
 * listed; ties keep the order given); then remote endpoints, in the order given.
 * "ordered": the order given.
 *
 * The order is the channel's preference: it connects to the first endpoint that answers, skipping
 * for a while those that failed recently (endpoint-pool.ts).
 */
export type Selection = "nearest" | "ordered";

export interface EndpointSelectionOptions {
  /** How a target listing several endpoints is ordered: "nearest" (default) or "ordered" (as given). */
  selection?: Selection;
  /**
   * For "nearest": URI schemes in order of preference among this host's endpoints. Default
   * ["unix", "netlink", "tcp", "udp"]. Schemes not listed rank after those listed (they are not
   * excluded).
   */
  transportPreference?: readonly string[];
}

export interface SelectionRule {
  readonly selection: Selection;
  readonly transportPreference: readonly string[];
}

export const DEFAULT_TRANSPORT_PREFERENCE: readonly string[] = Object.freeze(["unix", "netlink", "tcp", "udp"]);

const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*$/;

/** Validates the selection options of the channel to `target`; a mistake is INVALID_ARGUMENT naming the option. */
export function selectionRule(options: EndpointSelectionOptions, target: string): SelectionRule {
  const { selection = "nearest", transportPreference } = options;
  if (selection !== "nearest" && selection !== "ordered") {
    throw invalid(target, `selection must be "nearest" or "ordered", got ${describe(selection)}`);
  }
  if (transportPreference === undefined) return { selection, transportPreference: DEFAULT_TRANSPORT_PREFERENCE };
  if (selection === "ordered") {
    throw invalid(target, `transportPreference has no effect with selection "ordered" (the list's own order is used); drop one of them`);
  }
  if (!Array.isArray(transportPreference)) {
    throw invalid(target, `transportPreference must be an array of URI schemes such as ["unix", "tcp"], got ${describe(transportPreference)}`);
  }
  const seen = new Set<string>();
  for (const [index, scheme] of transportPreference.entries()) {
    if (typeof scheme !== "string" || !SCHEME_PATTERN.test(scheme)) {
      throw invalid(target, `transportPreference[${index}] must be a URI scheme without the colon ("unix", "tcp"), got ${describe(scheme)}`);
    }
    if (seen.has(scheme)) throw invalid(target, `transportPreference lists "${scheme}" twice`);
    seen.add(scheme);
  }
  return { selection, transportPreference: Object.freeze([...transportPreference]) };
}

/**
 * `endpoints` in the order a channel tries them, per `rule` (see the top of this file). Pure:
 * `isLocal` says which endpoints are on this host. Returns a new array.
 */
export function orderEndpoints<E extends Endpoint>(
  endpoints: readonly E[],
  rule: SelectionRule,
  isLocal: (endpoint: E) => boolean,
): E[] {
  if (rule.selection === "ordered") return [...endpoints];
  const preference = rule.transportPreference;
  const rank = (endpoint: E): number => {
    const index = preference.indexOf(endpoint.scheme);
    return index === -1 ? preference.length : index;
  };
  const local: E[] = [];
  const remote: E[] = [];
  for (const endpoint of endpoints) (isLocal(endpoint) ? local : remote).push(endpoint);
  // Array.prototype.sort is stable: endpoints of the same rank keep the order given.
  local.sort((a, b) => rank(a) - rank(b));
  return [...local, ...remote];
}

function invalid(target: string, problem: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `channel option for ${target}: ${problem}`);
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value === "object" ? "an object" : String(value);
}
