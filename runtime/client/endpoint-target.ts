import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { resolveAddress, type ResolvedAddress } from "../transport/builtin.js";

/**
 * What createChannel accepts as a target: one URI ("unix:/run/flight.sock"), several endpoints
 * of one service as an array, or the same as one comma-separated string (for configs and
 * command lines: "unix:/run/flight.sock, tcp://10.0.0.5:7100"; blanks around commas are
 * ignored). Commas always separate endpoints, so no endpoint may contain one — which also lets
 * a list travel as a single string (Channel.target, the blocking-call worker) and come back
 * the same.
 */
export type TargetInput = string | readonly string[];

export interface ChannelTarget {
  /** Channel.target: the string as given, or an array's items joined with ",". */
  readonly display: string;
  /** Each endpoint resolved by its transport, in the order given; never empty, no URI twice. */
  readonly endpoints: readonly ResolvedAddress[];
}

/** Parses and validates `target`; a mistake is an RpcError INVALID_ARGUMENT naming the endpoint and the target. */
export function parseTarget(target: TargetInput): ChannelTarget {
  let display: string;
  let items: readonly string[];
  if (typeof target === "string") {
    display = target;
    items = target.includes(",") ? target.split(",").map((item) => item.trim()) : [target];
  } else if (Array.isArray(target)) {
    if (target.length === 0) throw invalid("a target must list at least one endpoint, got an empty array");
    for (const [index, item] of target.entries()) {
      if (typeof item !== "string") throw invalid(`endpoint ${index + 1} of the target array is not a string: ${String(item)}`);
      if (item.includes(",")) {
        throw invalid(`endpoint "${item}" contains a comma, which separates endpoints; give a path without commas`);
      }
    }
    display = target.join(",");
    items = target;
  } else {
    throw invalid(`a target must be a URI string, a comma-separated list of URIs or an array of URIs, got ${String(target)}`);
  }
  const endpoints: ResolvedAddress[] = [];
  const seen = new Map<string, string>();
  for (const [index, item] of items.entries()) {
    if (item.length === 0) throw invalid(`endpoint ${index + 1} of target "${display}" is empty`);
    let resolved: ResolvedAddress;
    try {
      resolved = resolveAddress(item);
    } catch (error) {
      if (items.length === 1) throw error;
      const reason = error instanceof RpcError ? error.rawMessage : String(error);
      throw new RpcError(Code.INVALID_ARGUMENT, `target "${display}": ${reason}`, { cause: error });
    }
    const uri = resolved.endpoint.uri;
    const earlier = seen.get(uri);
    if (earlier !== undefined) {
      if (earlier === item) throw invalid(`target "${display}" lists "${item}" twice`);
      throw invalid(`target "${display}" names ${uri} twice ("${earlier}" and "${item}")`);
    }
    seen.set(uri, item);
    endpoints.push(resolved);
  }
  return { display, endpoints };
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
