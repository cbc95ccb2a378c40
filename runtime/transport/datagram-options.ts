import { malformedAddress } from "./registry.js";
import { DATAGRAM_OVERHEAD } from "./datagram-frame.js";
import type { Endpoint, Transport } from "./transport.js";

/**
 * What a datagram URI may add after "?" (udp://127.0.0.1:7000?maxDatagram=1472, netlink://4242?dropEvery=5):
 *
 * - `maxDatagram=<bytes>`: the largest datagram this side sends and accepts (header, body and
 *   authentication trailer; 48 of them are not body). Default and upper bound per transport.
 *   Each side announces what it accepts when the connection opens; a frame above the smaller of
 *   the two limits is not sent (RESOURCE_EXHAUSTED instead).
 * - Fault injection, for tests of the datagram layer (never for production):
 *   `dropEvery=<N>` (N >= 2) drops one in N of the datagrams this side sends, whatever they are
 *   (chosen pseudo-randomly with a fixed seed: datagram-socket.ts says why not strictly every Nth);
 *   `duplicate=1` sends every datagram twice. A listener applies them to everything it sends to
 *   every peer, a channel to what it sends to the server.
 */
export interface DatagramOptions {
  readonly maxDatagramBytes: number;
  readonly faults: FaultPlan | undefined;
}

export interface FaultPlan {
  /** Drop one datagram in this many sent (0: none). */
  readonly dropEvery: number;
  readonly duplicate: boolean;
}

export interface DatagramEndpoint extends Endpoint {
  readonly options: DatagramOptions;
}

export interface DatagramLimits {
  readonly defaultMaxDatagram: number;
  readonly maxMaxDatagram: number;
}

/**
 * Smallest maxDatagram accepted: room for the header, the trailer and every handshake message
 * msf sends (a RESPONSE with a 255-byte name is about 360 bytes, a FAILURE at most 1027).
 */
const MIN_MAX_DATAGRAM = 1024 + DATAGRAM_OVERHEAD;

/** Parses the query part (without "?") of `uri`; throws INVALID_ARGUMENT naming the parameter. */
export function parseDatagramQuery(uri: string, query: string | undefined, transport: Transport, limits: DatagramLimits): DatagramOptions {
  let maxDatagramBytes = limits.defaultMaxDatagram;
  let dropEvery = 0;
  let duplicate = false;
  if (query === undefined || query === "") return { maxDatagramBytes, faults: undefined };
  for (const [name, value] of new URLSearchParams(query)) {
    switch (name) {
      case "maxDatagram":
        maxDatagramBytes = integer(uri, transport, name, value, MIN_MAX_DATAGRAM, limits.maxMaxDatagram);
        break;
      case "dropEvery":
        dropEvery = integer(uri, transport, name, value, 2, 0x7fffffff);
        break;
      case "duplicate":
        if (value !== "1" && value !== "true" && value !== "0" && value !== "false") {
          throw malformedAddress(uri, transport, `parameter duplicate must be 1, true, 0 or false, got "${value}"`);
        }
        duplicate = value === "1" || value === "true";
        break;
      default:
        throw malformedAddress(uri, transport, `unknown parameter "${name}" (known: maxDatagram, dropEvery, duplicate)`);
    }
  }
  const faults = dropEvery === 0 && !duplicate ? undefined : { dropEvery, duplicate };
  return { maxDatagramBytes, faults };
}

function integer(uri: string, transport: Transport, name: string, value: string, min: number, max: number): number {
  const number = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) {
    throw malformedAddress(uri, transport, `parameter ${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return number;
}
