import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { checkDropPolicyName, type DropPolicyName } from "./drop-policy.js";

export interface EventBusOptions {
  /** Events held per subscription when its Subscribe names no limit (msf.json events.queue_limit). Default 1024. */
  queueLimit?: number;
  /** What a full queue does when its Subscribe names no policy (msf.json events.drop_policy). Default "block". */
  dropPolicy?: DropPolicyName;
  /** A subscription not pulled for this long is removed (its subscriber is presumed gone). Default 30 000. */
  subscriptionExpiryMs?: number;
  /** A publisher idle this long is forgotten (its next batch is accepted as a first contact). Default 600 000. */
  publisherExpiryMs?: number;
}

export interface NormalizedBusOptions {
  readonly queueLimit: number;
  readonly dropPolicy: DropPolicyName;
  readonly subscriptionExpiryMs: number;
  readonly publisherExpiryMs: number;
}

/** The largest queue a subscription may ask for: events are held in memory at msfd. */
export const MAX_QUEUE_LIMIT = 1_000_000;

export function normalizeBusOptions(options: EventBusOptions | undefined): NormalizedBusOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new RpcError(Code.INVALID_ARGUMENT, `new EventBus(options): expected an object, got ${String(options)}`);
  }
  return {
    queueLimit: integer(options.queueLimit, "queueLimit", 1, MAX_QUEUE_LIMIT, 1024),
    dropPolicy: options.dropPolicy === undefined ? "block" : checkDropPolicyName(options.dropPolicy, "new EventBus(options): option dropPolicy"),
    subscriptionExpiryMs: integer(options.subscriptionExpiryMs, "subscriptionExpiryMs", 10, 0x7fffffff, 30_000),
    publisherExpiryMs: integer(options.publisherExpiryMs, "publisherExpiryMs", 10, 0x7fffffff, 600_000),
  };
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RpcError(Code.INVALID_ARGUMENT, `new EventBus(options): option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
