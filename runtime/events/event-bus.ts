import { randomUUID } from "node:crypto";
import type { CallContext } from "../call-context.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { BusCounters } from "./bus-counters.js";
import { toStatsResponse, type EventBusStats } from "./bus-stats.js";
import { MAX_QUEUE_LIMIT, normalizeBusOptions, type EventBusOptions, type NormalizedBusOptions } from "./bus-options.js";
import { dropPolicyFromProto, dropPolicyToProto } from "./drop-policy.js";
import type {
  Event,
  PublishRequest,
  PublishResponse,
  PullRequest,
  PullResponse,
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from "./gen/msf/events.js";
import { EventsDefinition, type EventsHandlers } from "./gen/msf/events.server.js";
import { PublishRequestCodec, PullResponseCodec } from "./batch-codec.js";
import { Group } from "./group.js";
import { PendingPull } from "./pending-pull.js";
import { PublishJob, type PublishRouter } from "./publish-job.js";
import { PublisherState } from "./publisher-sequence.js";
import { Wakeups, type Sink } from "./sink.js";
import { Subscription } from "./subscription.js";
import { checkPattern, checkTopic } from "./topic.js";

export type { EventBusOptions } from "./bus-options.js";
export type { EventBusStats, SubscriptionInfo } from "./bus-stats.js";

/** The events service as msfd serves it: see EventBus.definition. */
export const EventBusDefinition = {
  ...EventsDefinition,
  methods: {
    ...EventsDefinition.methods,
    publish: { ...EventsDefinition.methods.publish, requestType: PublishRequestCodec },
    pull: { ...EventsDefinition.methods.pull, responseType: PullResponseCodec },
  },
} as const satisfies typeof EventsDefinition;

/** Pull defaults and caps (PullRequest.max_events, max_bytes). */
export const DEFAULT_PULL_EVENTS = 1024;
export const MAX_PULL_EVENTS = 65_536;
export const DEFAULT_PULL_BYTES = 1 << 20;
/** A long-poll Pull is answered this long before its call's deadline, so the empty reply arrives in time. */
const PULL_DEADLINE_MARGIN_MS = 20;
/** Topics whose routes are cached; beyond it the cache starts over (a topic per request id must not grow it forever). */
const MAX_CACHED_ROUTES = 10_000;
const MAX_ID_LENGTH = 128;
const GROUP_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The daemon side of msf events: subscriptions with bounded queues, groups, per-publisher order,
 * backpressure and drop policies, long-poll pulls, expiry. No I/O of its own: serve `handlers`
 * with its definition (`server.addService(bus.definition, bus.handlers)`), and
 * publish msfd's own events with publishLocal.
 *
 * Semantics (idl/msf/events.proto has the wire view):
 * - Broadcast: every subscription whose topic matches gets the event; a group (same topic and
 *   group name) gets it once, for one member.
 * - Order: a publisher's batches are handled one after another in arrival order and its events
 *   reach each queue in publish order; sequence numbers catch a gap (FAILED_PRECONDITION) and
 *   skip a retransmitted prefix (duplicates, idempotently).
 * - Full queue, block policy: the Publish waits for room (its reply is the backpressure); its
 *   deadline passing fails it DEADLINE_EXCEEDED and it takes nothing more. Drop policies drop
 *   and count (Pull replies, stats).
 * - A subscription not pulled for subscriptionExpiryMs is removed; a group member's queued
 *   events then go to the other members.
 * - Delivery is at most once: events handed to a Pull reply are gone from the queue.
 */
export class EventBus implements PublishRouter {
  /**
   * EventsDefinition with the batch-carrying messages (Publish requests, Pull replies) encoded by
   * batch-codec.ts: the same bytes, faster. Serve `server.addService(bus.definition, bus.handlers)`.
   */
  readonly definition = EventBusDefinition;
  readonly handlers: EventsHandlers;
  readonly counters = new BusCounters();
  private readonly options: NormalizedBusOptions;
  private readonly wakeups = new Wakeups();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Broadcast subscriptions, in subscription order. */
  private readonly broadcast = new Set<Subscription>();
  /** Groups by `${pattern}\n${name}`. */
  private readonly groups = new Map<string, Group>();
  private readonly publishers = new Map<string, PublisherState>();
  private readonly routes = new Map<string, readonly Sink[]>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(options?: EventBusOptions) {
    this.options = normalizeBusOptions(options);
    const every = Math.max(5, Math.min(1000, Math.floor(Math.min(this.options.subscriptionExpiryMs, this.options.publisherExpiryMs) / 4)));
    this.sweeper = setInterval(() => this.sweep(Date.now()), every);
    this.sweeper.unref();
    this.handlers = {
      publish: (request, context) => this.publish(request, context),
      subscribe: (request) => this.subscribe(request),
      pull: (request, context) => this.pull(request, context),
      unsubscribe: (request) => this.unsubscribe(request),
      stats: () => {
        this.checkOpen();
        return toStatsResponse(this.stats());
      },
    };
  }

  /**
   * Publishes one of msfd's own events (msf.service.online, msf.service.offline, msf.alert) to
   * every matching subscription. Never waits and never drops for a block-policy queue (it goes
   * in beyond the limit: these events are rare and must not be lost); drop policies apply as
   * usual. Returns the number of subscriptions and groups it went to; 0 after close(). Throws
   * RpcError INVALID_ARGUMENT for a malformed topic.
   */
  publishLocal(topic: string, payload: Uint8Array): number {
    checkTopic(topic, "publishLocal");
    if (this.closed) return 0;
    // A copy: the caller may reuse its bytes, and these events are rare.
    const event: Event = { topic, payload: Buffer.from(payload), key: "" };
    const route = this.route(topic);
    for (const sink of route) sink.offer(event, true);
    this.counters.published++;
    if (route.length === 0) this.counters.unrouted++;
    return route.length;
  }

  stats(): EventBusStats {
    const now = Date.now();
    const counters = this.counters;
    return {
      published: counters.published,
      delivered: counters.delivered,
      dropped: counters.dropped,
      unrouted: counters.unrouted,
      duplicates: counters.duplicates,
      publishers: this.publishers.size,
      blockedPublishes: counters.blocked,
      queueLimit: this.options.queueLimit,
      dropPolicy: this.options.dropPolicy,
      subscriptions: [...this.subscriptions.values()].map((subscription) => ({
        id: subscription.id,
        topic: subscription.pattern,
        group: subscription.group?.name,
        queued: subscription.queue.length,
        queueLimit: subscription.limit,
        dropPolicy: subscription.policy,
        delivered: subscription.delivered,
        dropped: subscription.droppedTotal,
        idleMs: subscription.pull === undefined ? Math.max(0, now - subscription.lastActive) : 0,
        blockedPublishes: subscription.waiters.length + (subscription.group?.waiters.length ?? 0),
      })),
    };
  }

  /**
   * Stops the expiry timer and fails every waiting Pull and Publish with UNAVAILABLE; later
   * calls fail UNAVAILABLE too. Queued events are discarded. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const reason = new RpcError(Code.UNAVAILABLE, "the event bus closed (msfd is stopping)");
    for (const subscription of this.subscriptions.values()) {
      subscription.pull?.fail(reason);
    }
    for (const publisher of this.publishers.values()) {
      for (const job of publisher.jobs.splice(0)) job.fail(reason);
    }
    this.subscriptions.clear();
    this.broadcast.clear();
    this.groups.clear();
    this.publishers.clear();
    this.routes.clear();
  }

  /** @internal PublishRouter */
  route(topic: string): readonly Sink[] {
    const cached = this.routes.get(topic);
    if (cached !== undefined) return cached;
    const sinks: Sink[] = [];
    for (const subscription of this.broadcast) if (subscription.matches(topic)) sinks.push(subscription);
    for (const group of this.groups.values()) if (group.matches(topic)) sinks.push(group);
    if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
    this.routes.set(topic, sinks);
    return sinks;
  }

  /** @internal PublishRouter */
  startNext(publisher: PublisherState): void {
    const jobs = publisher.jobs;
    while (jobs.length > 0) {
      const job = jobs[0]!;
      let finished: boolean;
      try {
        finished = job.begin();
      } catch (error) {
        jobs.shift();
        job.fail(error);
        continue;
      }
      if (!finished) return;
      jobs.shift();
      job.complete();
    }
  }

  private publish(request: PublishRequest, context: CallContext): PublishResponse | Promise<PublishResponse> {
    this.checkOpen();
    const id = request.publisherId;
    if (id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new RpcError(Code.INVALID_ARGUMENT, `Publish: publisher_id must be 1 to ${MAX_ID_LENGTH} characters, got ${id.length}`);
    }
    if (request.firstSeq > BigInt(Number.MAX_SAFE_INTEGER - request.events.length)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `Publish from publisher "${id}": first_seq ${request.firstSeq} is too large (at most 2^53 - 1 - the batch's size)`);
    }
    // Every topic is checked before anything is routed: a bad one fails the whole batch. A cached route means a checked topic.
    const events = request.events;
    for (let index = 0; index < events.length; index++) {
      const topic = events[index]!.topic;
      if (!this.routes.has(topic)) checkTopic(topic, `Publish from publisher "${id}": events[${index}].topic`);
    }
    const now = Date.now();
    let publisher = this.publishers.get(id);
    if (publisher === undefined) {
      publisher = new PublisherState(id, now);
      this.publishers.set(id, publisher);
    }
    publisher.lastActive = now;
    const job = new PublishJob(this, publisher, request, Number(request.firstSeq), context);
    const jobs = publisher.jobs;
    jobs.push(job);
    if (jobs.length > 1) return job.wait();
    let finished: boolean;
    try {
      finished = job.begin();
    } catch (error) {
      jobs.shift();
      throw error;
    }
    if (!finished) return job.wait();
    jobs.shift();
    return job.response();
  }

  private subscribe(request: SubscribeRequest): SubscribeResponse {
    this.checkOpen();
    const pattern = request.topic;
    checkPattern(pattern, "Subscribe: topic");
    const groupName = request.group;
    if (groupName !== "" && (groupName.length > MAX_ID_LENGTH || !GROUP_NAME.test(groupName))) {
      throw new RpcError(Code.INVALID_ARGUMENT, `Subscribe: group ${JSON.stringify(groupName)} must be 1 to ${MAX_ID_LENGTH} letters, digits, "_", "." or "-"`);
    }
    if (request.queueLimit > MAX_QUEUE_LIMIT) {
      throw new RpcError(Code.INVALID_ARGUMENT, `Subscribe: queue_limit ${request.queueLimit} is above the maximum of ${MAX_QUEUE_LIMIT}`);
    }
    const limit = request.queueLimit === 0 ? this.options.queueLimit : request.queueLimit;
    let policy = dropPolicyFromProto(request.dropPolicy, this.options.dropPolicy, "Subscribe: drop_policy");
    let group: Group | undefined;
    if (groupName !== "") {
      const key = `${pattern}\n${groupName}`;
      group = this.groups.get(key);
      if (group === undefined) {
        group = new Group(groupName, pattern, policy);
        this.groups.set(key, group);
      } else if (request.dropPolicy === 0) {
        policy = group.policy;
      } else if (group.policy !== policy) {
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `Subscribe: group "${groupName}" of topic "${pattern}" uses drop policy ${group.policy}; a member cannot use ${policy}`,
        );
      }
    }
    const subscription = new Subscription(randomUUID(), pattern, group, limit, policy, this.counters, this.wakeups, Date.now());
    this.subscriptions.set(subscription.id, subscription);
    if (group === undefined) {
      this.broadcast.add(subscription);
    } else {
      group.members.push(subscription);
      // A new member is room for the group's blocked publishes.
      this.wakeups.wakeAll(group);
    }
    this.routes.clear();
    return {
      subscriptionId: subscription.id,
      queueLimit: limit,
      dropPolicy: dropPolicyToProto(policy),
      expireMs: this.options.subscriptionExpiryMs,
    };
  }

  private pull(request: PullRequest, context: CallContext): PullResponse | Promise<PullResponse> {
    this.checkOpen();
    const subscription = this.subscriptionFor(request.subscriptionId, "Pull");
    const now = Date.now();
    subscription.lastActive = now;
    const maxEvents = request.maxEvents === 0 ? DEFAULT_PULL_EVENTS : Math.min(request.maxEvents, MAX_PULL_EVENTS);
    const maxBytes = request.maxBytes === 0 ? DEFAULT_PULL_BYTES : request.maxBytes;
    // One Pull waits per subscription: a newer one takes over (the older caller gave up on it).
    subscription.pull?.answerEmpty();
    const waitUntil = Math.min(now + Math.min(request.waitMs, this.options.subscriptionExpiryMs), context.deadline - PULL_DEADLINE_MARGIN_MS);
    if (subscription.queue.length > 0 || waitUntil <= now) return subscription.take(maxEvents, maxBytes, now);
    return new Promise<PullResponse>((resolve, reject) => {
      const pending = new PendingPull(subscription, maxEvents, maxBytes, resolve, reject);
      subscription.pull = pending;
      pending.start(waitUntil, now);
      const signal = context.signal;
      if (signal.aborted) pending.fail(signal.reason);
      else signal.addEventListener("abort", () => pending.fail(signal.reason), { once: true });
    });
  }

  private unsubscribe(request: UnsubscribeRequest): UnsubscribeResponse {
    this.checkOpen();
    const subscription = this.subscriptions.get(request.subscriptionId);
    if (subscription === undefined) return { found: false, requeued: 0, discarded: 0 };
    return { found: true, ...this.remove(subscription, "it was unsubscribed") };
  }

  /**
   * Ends a subscription: a waiting Pull fails NOT_FOUND, a group member's queued events go to
   * the other members, and publishes blocked on it are woken to route again without it.
   */
  private remove(subscription: Subscription, why: string): { requeued: number; discarded: number } {
    this.subscriptions.delete(subscription.id);
    this.routes.clear();
    subscription.pull?.fail(unknownSubscription(subscription.id, "Pull", why));
    let requeued = 0;
    const group = subscription.group;
    if (group === undefined) {
      this.broadcast.delete(subscription);
    } else {
      requeued = group.remove(subscription);
      if (group.members.length === 0) this.groups.delete(`${group.pattern}\n${group.name}`);
      this.wakeups.wakeAll(group);
    }
    const discarded = subscription.queue.length;
    subscription.queue.drainInto([]);
    this.wakeups.wakeAll(subscription);
    return { requeued, discarded };
  }

  private sweep(now: number): void {
    const expiry = this.options.subscriptionExpiryMs;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.pull === undefined && now - subscription.lastActive > expiry) {
        this.remove(subscription, `it expired (not pulled for ${expiry} ms)`);
      }
    }
    const publisherExpiry = this.options.publisherExpiryMs;
    for (const [id, publisher] of this.publishers) {
      if (publisher.jobs.length === 0 && now - publisher.lastActive > publisherExpiry) this.publishers.delete(id);
    }
  }

  private subscriptionFor(id: string, rpc: string): Subscription {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) throw unknownSubscription(id, rpc, "it expired, was unsubscribed, or msfd restarted");
    return subscription;
  }

  private checkOpen(): void {
    if (this.closed) throw new RpcError(Code.UNAVAILABLE, "the event bus closed (msfd is stopping)");
  }
}

function unknownSubscription(id: string, rpc: string, why: string): RpcError {
  return new RpcError(Code.NOT_FOUND, `${rpc}: no subscription ${JSON.stringify(id)}: ${why}; subscribe again`);
}
