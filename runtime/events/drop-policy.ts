import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { DropPolicy } from "./gen/msf/events.js";

/**
 * What a full queue does with one more event, as msf.json names it (events.drop_policy):
 * "block" holds the publisher back until there is room (never a drop), "drop_oldest" and
 * "drop_newest" drop and count.
 */
export type DropPolicyName = "block" | "drop_oldest" | "drop_newest";

export const DROP_POLICY_NAMES: readonly DropPolicyName[] = ["block", "drop_oldest", "drop_newest"];

export function dropPolicyToProto(name: DropPolicyName): DropPolicy {
  switch (name) {
    case "block":
      return DropPolicy.DROP_POLICY_BLOCK;
    case "drop_oldest":
      return DropPolicy.DROP_POLICY_DROP_OLDEST;
    case "drop_newest":
      return DropPolicy.DROP_POLICY_DROP_NEWEST;
  }
}

/** The name of a policy from a request; UNSPECIFIED gives `fallback`. Throws INVALID_ARGUMENT on an unknown value. */
export function dropPolicyFromProto(value: DropPolicy, fallback: DropPolicyName, where: string): DropPolicyName {
  switch (value) {
    case DropPolicy.DROP_POLICY_UNSPECIFIED:
      return fallback;
    case DropPolicy.DROP_POLICY_BLOCK:
      return "block";
    case DropPolicy.DROP_POLICY_DROP_OLDEST:
      return "drop_oldest";
    case DropPolicy.DROP_POLICY_DROP_NEWEST:
      return "drop_newest";
    default:
      throw new RpcError(Code.INVALID_ARGUMENT, `${where}: unknown drop policy ${String(value)}; expected BLOCK (1), DROP_OLDEST (2) or DROP_NEWEST (3), or 0 for the bus's default`);
  }
}

/** Throws INVALID_ARGUMENT naming `where` unless `value` is a policy name. */
export function checkDropPolicyName(value: unknown, where: string): DropPolicyName {
  if (typeof value === "string" && (DROP_POLICY_NAMES as readonly string[]).includes(value)) return value as DropPolicyName;
  throw new RpcError(Code.INVALID_ARGUMENT, `${where}: expected "block", "drop_oldest" or "drop_newest", got ${JSON.stringify(value) ?? String(value)}`);
}
