import { dropPolicyToProto, type DropPolicyName } from "./drop-policy.js";
import type { StatsResponse } from "./gen/msf/events.js";

/** Counters of the bus and its subscriptions (EventBus.stats(); the Stats rpc carries the same). */
export interface EventBusStats {
  /** Events accepted (Publish and publishLocal), duplicates not included. */
  readonly published: number;
  /** Events handed out by Pull. */
  readonly delivered: number;
  /** Events lost to a drop policy. */
  readonly dropped: number;
  /** Accepted events no subscription matched. */
  readonly unrouted: number;
  /** Retransmitted events skipped. */
  readonly duplicates: number;
  /** Publishers whose ordering state the bus holds. */
  readonly publishers: number;
  /** Publishes waiting for room right now. */
  readonly blockedPublishes: number;
  readonly queueLimit: number;
  readonly dropPolicy: DropPolicyName;
  readonly subscriptions: readonly SubscriptionInfo[];
}

export interface SubscriptionInfo {
  readonly id: string;
  readonly topic: string;
  readonly group: string | undefined;
  readonly queued: number;
  readonly queueLimit: number;
  readonly dropPolicy: DropPolicyName;
  readonly delivered: number;
  readonly dropped: number;
  /** Since its last Pull began or ended; 0 while a Pull waits. */
  readonly idleMs: number;
  /** Publishes waiting for room in its queue (or its group's). */
  readonly blockedPublishes: number;
}

/** The Stats rpc's form of EventBus.stats(): counters as uint64, policies as the proto enum. */
export function toStatsResponse(stats: EventBusStats): StatsResponse {
  return {
    subscriptions: stats.subscriptions.map((subscription) => ({
      subscriptionId: subscription.id,
      topic: subscription.topic,
      group: subscription.group ?? "",
      queued: subscription.queued,
      queueLimit: subscription.queueLimit,
      dropPolicy: dropPolicyToProto(subscription.dropPolicy),
      delivered: BigInt(subscription.delivered),
      dropped: BigInt(subscription.dropped),
      idleMs: Math.min(subscription.idleMs, 0xffffffff),
      blockedPublishes: subscription.blockedPublishes,
    })),
    publishers: stats.publishers,
    published: BigInt(stats.published),
    delivered: BigInt(stats.delivered),
    dropped: BigInt(stats.dropped),
    unrouted: BigInt(stats.unrouted),
    duplicates: BigInt(stats.duplicates),
    blockedPublishes: stats.blockedPublishes,
    queueLimit: stats.queueLimit,
    dropPolicy: dropPolicyToProto(stats.dropPolicy),
  };
}
