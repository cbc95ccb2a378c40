import type { Channel } from "../client/channel-api.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { MethodDefinition } from "../definition.js";
import { PullResponseCodec } from "./batch-codec.js";
import { checkDropPolicyName, dropPolicyToProto, type DropPolicyName } from "./drop-policy.js";
import { DropPolicy, type Event, type PullRequest, type PullResponse, type SubscribeRequest } from "./gen/msf/events.js";
import { EventsDefinition } from "./gen/msf/events.server.js";
import { checkPattern } from "./topic.js";

/**
 * An event as a subscriber receives it. `payload` is a view of the Pull reply's buffer, valid
 * for good: copy it (Buffer.from) before keeping it long, or it keeps the whole reply alive.
 */
export type ReceivedEvent = Readonly<Event>;

export interface SubscribeOptions {
  /** Share the events with the other subscribers of the same topic and group: each event goes to one of them. */
  group?: string;
  /** Events msfd holds for this subscriber. Default: msfd's (msf.json events.queue_limit). */
  queueLimit?: number;
  /** What msfd does when the queue is full. Default: msfd's (msf.json events.drop_policy). */
  dropPolicy?: DropPolicyName;
  /** Events per Pull at most. Default 1024. */
  maxBatch?: number;
  /** Payload bytes per Pull at most (about: one event always comes). Default: msfd's (1 MiB). */
  maxBatchBytes?: number;
  /** How long one Pull waits at msfd for an event (long poll), ms, at least 10. Default 5000, capped below the subscription's expiry. */
  waitMs?: number;
  /**
   * Called when onEvent throws or rejects (with the event), and when the subscription ends on
   * an error it cannot recover from (without an event). With onError, an onEvent error is
   * reported and the subscription goes on; without it, the subscription ends and `done` rejects.
   */
  onError?: (error: unknown, event: ReceivedEvent | undefined) => void;
}

export interface SubscriberStats {
  /** The subscription id at msfd right now (a new one after re-subscribing); undefined while not subscribed. */
  readonly id: string | undefined;
  /** Events handed to onEvent. */
  readonly received: number;
  /** Events msfd reported dropped for this subscriber (drop policies). */
  readonly dropped: number;
  readonly pulls: number;
  /** Times the subscription was made again (msfd restarted, or it expired). */
  readonly resubscribes: number;
}

export interface EventSubscription {
  readonly topic: string;
  readonly group: string | undefined;
  /** Resolves once msfd registered the subscription (events published from then on are delivered); rejects if it never does. */
  readonly ready: Promise<void>;
  /** Settles when the subscription ends: resolves after close(), rejects with the error that ended it. */
  readonly done: Promise<void>;
  readonly stats: SubscriberStats;
  /**
   * Stops pulling (a Pull waiting at msfd is cancelled; events not yet handed to onEvent stay
   * there for the group's other members or are discarded), waits for a running onEvent, and
   * unsubscribes. Idempotent.
   */
  close(): Promise<void>;
}

export type EventHandler = (event: ReceivedEvent) => void | Promise<void>;

/**
 * Subscribes to `topic` (a topic or a pattern: "flight.*", "msf.>") through `channel` (a
 * channel to msfd's broker address) and calls onEvent for every event, one at a time, in order.
 * A Pull is made only after every event of the previous one was handled (an async onEvent is
 * awaited): a slow subscriber slows its queue, which is the backpressure msfd passes on to
 * publishers (block policy) or turns into counted drops. When msfd forgets the subscription
 * (restart, expiry) it subscribes again; while msfd is unreachable it retries with a backoff.
 * Throws RpcError INVALID_ARGUMENT at once for a malformed topic or option.
 */
export function subscribe(channel: Channel, topic: string, options: SubscribeOptions, onEvent: EventHandler): EventSubscription {
  return new PullingSubscription(channel, topic, options, onEvent);
}

const SUBSCRIBE = EventsDefinition.methods.subscribe;
/** Pull with the batch codec (batch-codec.ts): payloads are views of the reply, not copies. */
const PULL: MethodDefinition<PullRequest, PullResponse> = { ...EventsDefinition.methods.pull, responseType: PullResponseCodec };
const UNSUBSCRIBE = EventsDefinition.methods.unsubscribe;
const DEFAULT_WAIT_MS = 5000;
/** Time a Pull call gets beyond its long-poll wait before the channel gives up on it. */
const PULL_CALL_MARGIN_MS = 10_000;
const RETRY_INITIAL_MS = 50;
const RETRY_MAX_MS = 2000;
const UNSUBSCRIBE_TIMEOUT_MS = 1000;
const noop = (): void => undefined;

class PullingSubscription implements EventSubscription {
  readonly group: string | undefined;
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  private id: string | undefined = undefined;
  private readonly subscribeRequest: SubscribeRequest;
  private readonly pullRequest: PullRequest;
  private pullTimeoutMs: number;
  private readonly waitMs: number;
  private readonly onError: ((error: unknown, event: ReceivedEvent | undefined) => void) | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private closing: Promise<void> | undefined = undefined;
  private wakeSleep: (() => void) | undefined = undefined;
  private markReady!: () => void;
  private failReady!: (error: unknown) => void;
  private counts = { received: 0, dropped: 0, pulls: 0, resubscribes: 0 };

  constructor(
    private readonly channel: Channel,
    readonly topic: string,
    options: SubscribeOptions,
    private readonly onEvent: EventHandler,
  ) {
    checkPattern(topic, "subscribe");
    if (typeof options !== "object" || options === null) throw invalid(`subscribe(${topic}): options must be an object, got ${String(options)}`);
    if (typeof onEvent !== "function") throw invalid(`subscribe(${topic}): onEvent must be a function (event) => void | Promise<void>, got ${typeof onEvent}`);
    if (options.group !== undefined && (typeof options.group !== "string" || options.group === "")) {
      throw invalid(`subscribe(${topic}): option group must be a non-empty string, got ${JSON.stringify(options.group)}`);
    }
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw invalid(`subscribe(${topic}): option onError must be a function, got ${typeof options.onError}`);
    }
    this.group = options.group;
    this.onError = options.onError;
    // At least 10 ms: with no wait, an idle subscriber would poll msfd in a busy loop.
    this.waitMs = integer(topic, options.waitMs, "waitMs", 10, 0x7fffffff, DEFAULT_WAIT_MS);
    this.subscribeRequest = {
      topic,
      group: options.group ?? "",
      queueLimit: integer(topic, options.queueLimit, "queueLimit", 1, 0xffffffff, 0),
      dropPolicy:
        options.dropPolicy === undefined
          ? DropPolicy.DROP_POLICY_UNSPECIFIED
          : dropPolicyToProto(checkDropPolicyName(options.dropPolicy, `subscribe(${topic}): option dropPolicy`)),
    };
    this.pullRequest = {
      subscriptionId: "",
      maxEvents: integer(topic, options.maxBatch, "maxBatch", 1, 65_536, 1024),
      maxBytes: integer(topic, options.maxBatchBytes, "maxBatchBytes", 1, 0xffffffff, 0),
      waitMs: this.waitMs,
    };
    this.pullTimeoutMs = this.waitMs + PULL_CALL_MARGIN_MS;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    this.ready.catch(noop);
    this.done = this.run();
    this.done.catch(noop);
  }

  get stats(): SubscriberStats {
    return { id: this.id, ...this.counts };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wakeSleep?.();
    await this.done.catch(noop);
    await this.unsubscribe();
  }

  /** Best effort: msfd expires the subscription anyway once it is no longer pulled. */
  private async unsubscribe(): Promise<void> {
    const id = this.id;
    this.id = undefined;
    if (id === undefined) return;
    await this.channel.unary(UNSUBSCRIBE, { subscriptionId: id }, { timeoutMs: UNSUBSCRIBE_TIMEOUT_MS }).catch(noop);
  }

  private async run(): Promise<void> {
    let retryMs = RETRY_INITIAL_MS;
    try {
      while (!this.closed) {
        let reply: PullResponse;
        try {
          if (this.id === undefined) await this.subscribeOnce();
          if (this.closed) break;
          this.counts.pulls++;
          reply = await this.channel.unary(PULL, this.pullRequest, { timeoutMs: this.pullTimeoutMs, signal: this.abort.signal });
        } catch (error) {
          if (this.closed) break;
          const code = error instanceof RpcError ? error.code : Code.UNKNOWN;
          if (code === Code.NOT_FOUND) {
            // msfd forgot the subscription (restart, expiry): make it again.
            this.id = undefined;
            continue;
          }
          if (code !== Code.UNAVAILABLE && code !== Code.DEADLINE_EXCEEDED) throw error;
          await this.sleep(retryMs);
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
          continue;
        }
        retryMs = RETRY_INITIAL_MS;
        if (reply.dropped !== 0n) this.counts.dropped += Number(reply.dropped);
        await this.deliver(reply.events);
      }
    } catch (error) {
      this.closed = true;
      this.failReady(error);
      void this.unsubscribe();
      if (this.onError !== undefined) this.onError(error, undefined);
      throw error;
    }
    this.failReady(new RpcError(Code.CANCELLED, `subscribe(${this.topic}): closed before msfd registered the subscription`));
  }

  private async subscribeOnce(): Promise<void> {
    const reply = await this.channel.unary(SUBSCRIBE, this.subscribeRequest, { signal: this.abort.signal, timeoutMs: this.pullTimeoutMs });
    if (this.counts.pulls > 0) this.counts.resubscribes++;
    this.id = reply.subscriptionId;
    this.pullRequest.subscriptionId = reply.subscriptionId;
    // A long poll must come back well before msfd would expire the subscription.
    this.pullRequest.waitMs = Math.min(this.waitMs, Math.floor(reply.expireMs / 2));
    this.pullTimeoutMs = this.pullRequest.waitMs + PULL_CALL_MARGIN_MS;
    this.markReady();
  }

  /** Hands events to onEvent one at a time; an async onEvent is awaited (no promise for a sync one). */
  private async deliver(events: readonly Event[]): Promise<void> {
    for (const event of events) {
      if (this.closed) return;
      this.counts.received++;
      try {
        const result = this.onEvent(event);
        if (result !== undefined && typeof (result as Promise<void>).then === "function") await result;
      } catch (error) {
        if (this.onError === undefined) throw error;
        this.onError(error, event);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeSleep = undefined;
        resolve();
      }, ms);
      this.wakeSleep = () => {
        clearTimeout(timer);
        this.wakeSleep = undefined;
        resolve();
      };
    });
  }
}

function integer(topic: string, value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`subscribe(${topic}): option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
