import { Code } from "../../code.js";
import { RpcError } from "../../rpc-error.js";

/**
 * How a call sent to a backend went, as balancers and ejection see it:
 * - "ok": it answered with a reply;
 * - "error": it answered with an error of its own (the handler's code): the backend works;
 * - "unreachable": UNAVAILABLE — refused, connection lost, draining: counts toward ejection;
 * - "overloaded": DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED: slow or full, lowers its weight but
 *   does not eject it.
 */
export type CallOutcome = "ok" | "error" | "unreachable" | "overloaded";

export function outcomeOf(error: unknown): CallOutcome {
  const code = error instanceof RpcError ? error.code : Code.UNKNOWN;
  switch (code) {
    case Code.UNAVAILABLE:
      return "unreachable";
    case Code.DEADLINE_EXCEEDED:
    case Code.RESOURCE_EXHAUSTED:
      return "overloaded";
    default:
      return "error";
  }
}

/** True for the outcomes that say the backend is unwell (dynamic_weight lowers its weight). */
export function isFailure(outcome: CallOutcome): boolean {
  return outcome === "unreachable" || outcome === "overloaded";
}
