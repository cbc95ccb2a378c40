import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Endpoint, Transport } from "./transport.js";

/**
 * Transports by URI scheme. Each transport file registers itself (see transport.ts, "How to add
 * a transport"); builtin.ts imports the ones shipped with msf.
 */
const transports = new Map<string, Transport>();

/** Makes `transport` handle URIs of its scheme. A scheme registered twice is a programming error. */
export function registerTransport(transport: Transport): void {
  const existing = transports.get(transport.scheme);
  if (existing !== undefined && existing !== transport) {
    throw new Error(`a transport for scheme "${transport.scheme}" is already registered`);
  }
  transports.set(transport.scheme, transport);
}

export interface ResolvedAddress {
  transport: Transport;
  endpoint: Endpoint;
}

/** Finds the transport for `uri` and parses it. Throws RpcError INVALID_ARGUMENT naming the URI and the forms accepted. */
export function resolveAddress(uri: string): ResolvedAddress {
  if (typeof uri !== "string") {
    throw new RpcError(Code.INVALID_ARGUMENT, `address ${String(uri)} is not a string; expected one of ${knownForms()}`);
  }
  const colon = uri.indexOf(":");
  const transport = colon > 0 ? transports.get(uri.slice(0, colon)) : undefined;
  if (transport === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `address "${uri}" has no known transport scheme; expected one of ${knownForms()}`);
  }
  return { transport, endpoint: transport.parse(uri) };
}

function knownForms(): string {
  return [...transports.values()].flatMap((transport) => transport.forms).join(", ");
}

/** The INVALID_ARGUMENT a transport's parse() throws for a URI of its scheme it cannot read. */
export function malformedAddress(uri: string, transport: Transport, reason: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `address "${uri}" is malformed (${reason}); expected ${transport.forms.join(" or ")}`);
}
