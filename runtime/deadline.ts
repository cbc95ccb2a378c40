import { Code } from "./code.js";
import { RpcError } from "./rpc-error.js";
import { MAX_TIMEOUT_MS } from "./wire/header.js";

/**
 * Deadlines travel as a relative timeout: the client turns `timeoutMs` into an absolute deadline
 * (Date.now() clock) when the call starts, writes the ms still left into the header's timeout
 * field when the frame is sent, and the server turns that back into an absolute deadline when
 * the frame arrives. Clocks of the two hosts never need to agree.
 */

/**
 * Checks a timeoutMs option: undefined or Infinity mean no deadline (undefined is returned);
 * anything else must be a number >= 0 (0: the deadline has already passed). Throws RpcError
 * INVALID_ARGUMENT naming `what`.
 */
export function checkTimeout(timeoutMs: unknown, what: string): number | undefined {
  if (timeoutMs === undefined || timeoutMs === Infinity) return undefined;
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} must be a number of ms >= 0 (or Infinity for none), got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

/** The header's timeout field for `deadline`: whole ms left, at least 1, at most MAX_TIMEOUT_MS; 0 when there is none. */
export function timeoutField(deadline: number, now: number): number {
  if (deadline === Infinity) return 0;
  const left = Math.ceil(deadline - now);
  return left < 1 ? 1 : left > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : left;
}

/** The absolute deadline of a frame that arrived at `arrival` with timeout field `field`. */
export function deadlineFromField(field: number, arrival: number): number {
  return field === 0 ? Infinity : arrival + field;
}
