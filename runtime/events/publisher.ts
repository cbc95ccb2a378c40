import { randomUUID } from "node:crypto";
import type { Channel } from "../client/channel-api.js";
import type { CallOptions } from "../client/call-options.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { MethodDefinition } from "../definition.js";
import { PublishRequestCodec } from "./batch-codec.js";
import type { Event, PublishRequest, PublishResponse } from "./gen/msf/events.js";
import { EventsDefinition } from "./gen/msf/events.server.js";
import { checkTopic } from "./topic.js";

export interface PublisherOptions {
  /** Events per Publish call at most. Default 1024 (bigger batches measured faster through msfd; 1 MiB per batch caps them anyway). */
  maxBatch?: number;
  /** Payload bytes per Publish call at most (a larger single event goes alone). Default 1 MiB. */
  maxBatchBytes?: number;
  /** Publish calls in flight at once; later events wait, in order, in batches. Default 4. */
  maxInFlight?: number;
  /**
   * With the block policy a Publish waits at msfd until slow subscribers made room: this bounds
   * that wait, in ms (max_wait_ms; the call itself gets PUBLISH_CALL_SLACK_MS more, so that
   * msfd's explanation of what was full arrives first). Default: no bound but the channel's
   * timeout.
   */
  timeoutMs?: number;
  /** The id msfd orders this publisher's events by. Default: a random UUID. Must be unique. */
  publisherId?: string;
}

export interface PublisherStats {
  /** Events msfd accepted. */
  readonly published: number;
  /** Events in batches that failed. */
  readonly failed: number;
  /** Publish calls made. */
  readonly batches: number;
  /** Publish calls in flight. */
  readonly inFlight: number;
  /** Events not yet sent (in batches waiting for a free slot, or gathering this tick). */
  readonly waiting: number;
}

export interface Publisher {
  readonly id: string;
  /**
   * Queues one event; every publish of the same tick goes out in one Publish call. Resolves when
   * msfd took it (with the block policy: when every queue it goes to had room), rejects with the
   * call's RpcError when its batch failed. Events of one publisher arrive in publish order.
   * Do not await each publish in a loop (one round trip per event): publish many, then await
   * flush(). A rejection nobody awaits is not an unhandled rejection; flush() reports it.
   * The payload is encoded when the batch goes out (end of the tick, or later when maxInFlight
   * batches are already in flight): do not change its bytes after the call.
   * Throws (synchronously) RpcError INVALID_ARGUMENT for a malformed topic, and
   * FAILED_PRECONDITION after close().
   */
  publish(topic: string, payload: Uint8Array, key?: string): Promise<void>;
  /**
   * Sends what is gathered and waits until every event published so far was answered. Rejects
   * with the first failure since the previous flush() (or close()), if any.
   */
  flush(): Promise<void>;
  /** Refuses new events, then flush(). The channel stays open (it is the caller's). */
  close(): Promise<void>;
  readonly stats: PublisherStats;
}

/**
 * A publisher over `channel` (a channel to msfd's broker address). Events of one tick are
 * batched into one Publish; up to maxInFlight batches are in flight at once, in order, and each
 * carries its first sequence number so msfd keeps the order and detects a gap. After a failed
 * batch, the next one is sent with `resync`: msfd then continues from it (the failed events are
 * not sent again: delivery is at most once).
 */
export function createPublisher(channel: Channel, options: PublisherOptions = {}): Publisher {
  return new BatchingPublisher(channel, options);
}

/** Publish with the batch codec (batch-codec.ts): the generated code's bytes, written once. */
const PUBLISH: MethodDefinition<PublishRequest, PublishResponse> = { ...EventsDefinition.methods.publish, requestType: PublishRequestCodec };
const noop = (): void => undefined;
/** A Publish call's timeout beyond its max_wait_ms (PublisherOptions.timeoutMs). */
export const PUBLISH_CALL_SLACK_MS = 2000;
/** Topics already checked: a Set lookup per event instead of a regex. */
const MAX_CHECKED_TOPICS = 1024;

/** One Publish call's events and the promise every publish() into it returned. */
class Batch {
  readonly events: Event[] = [];
  bytes = 0;
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Marked handled: ignoring publish()'s promise must not crash the process (flush() reports).
    this.promise.catch(noop);
  }
}

class BatchingPublisher implements Publisher {
  readonly id: string;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly callOptions: CallOptions | undefined;
  private readonly maxWaitMs: number;
  /** The batch gathering this tick's events. */
  private open: Batch | undefined = undefined;
  private scheduled = false;
  /** Full batches waiting for a free slot, in order. */
  private readonly ready: Batch[] = [];
  /** Every batch not yet answered (flush waits for these). */
  private readonly unsettled = new Set<Batch>();
  private inFlight = 0;
  private nextSeq = 0;
  /** A batch failed: the next one sent tells msfd to continue after the gap. */
  private resync = false;
  /** The first failure since the last flush. */
  private failure: unknown = undefined;
  private closed = false;
  private readonly checkedTopics = new Set<string>();
  private counts = { published: 0, failed: 0, batches: 0 };
  private readonly sendOpen = (): void => {
    this.scheduled = false;
    this.seal();
  };

  constructor(
    private readonly channel: Channel,
    options: PublisherOptions,
  ) {
    if (typeof options !== "object" || options === null) throw invalid(`createPublisher: options must be an object, got ${String(options)}`);
    this.maxBatch = integer(options.maxBatch, "maxBatch", 1, 65_536, 1024);
    this.maxBatchBytes = integer(options.maxBatchBytes, "maxBatchBytes", 1, 0x7fffffff, 1 << 20);
    this.maxInFlight = integer(options.maxInFlight, "maxInFlight", 1, 1024, 4);
    if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === "number" && options.timeoutMs > 0)) {
      throw invalid(`createPublisher: option timeoutMs must be a number of ms > 0, got ${String(options.timeoutMs)}`);
    }
    this.maxWaitMs = options.timeoutMs === undefined ? 0 : Math.min(Math.ceil(options.timeoutMs), 0xffffffff);
    this.callOptions = options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs + PUBLISH_CALL_SLACK_MS };
    const id = options.publisherId ?? randomUUID();
    if (typeof id !== "string" || id.length === 0 || id.length > 128) {
      throw invalid(`createPublisher: option publisherId must be a string of 1 to 128 characters, got ${JSON.stringify(id)}`);
    }
    this.id = id;
  }

  get stats(): PublisherStats {
    let waiting = this.open?.events.length ?? 0;
    for (const batch of this.ready) waiting += batch.events.length;
    return { ...this.counts, inFlight: this.inFlight, waiting };
  }

  publish(topic: string, payload: Uint8Array, key = ""): Promise<void> {
    if (this.closed) throw new RpcError(Code.FAILED_PRECONDITION, `publish(${JSON.stringify(topic)}): the publisher is closed`);
    if (!this.checkedTopics.has(topic)) {
      checkTopic(topic, "publish");
      if (this.checkedTopics.size >= MAX_CHECKED_TOPICS) this.checkedTopics.clear();
      this.checkedTopics.add(topic);
    }
    if (!(payload instanceof Uint8Array)) throw invalid(`publish(${JSON.stringify(topic)}): payload must be a Uint8Array (or Buffer), got ${typeof payload}`);
    if (typeof key !== "string") throw invalid(`publish(${JSON.stringify(topic)}): key must be a string, got ${typeof key}`);
    let batch = this.open;
    if (batch === undefined) {
      batch = new Batch();
      this.open = batch;
      this.unsettled.add(batch);
    }
    // ts-proto types bytes as Buffer (env=node); encoding only needs a Uint8Array.
    batch.events.push({ topic, payload: payload as Buffer, key });
    batch.bytes += payload.length;
    if (batch.events.length >= this.maxBatch || batch.bytes >= this.maxBatchBytes) {
      this.seal();
    } else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.sendOpen);
    }
    return batch.promise;
  }

  async flush(): Promise<void> {
    this.seal();
    if (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled].map((batch) => batch.promise));
    const failure = this.failure;
    if (failure === undefined) return;
    this.failure = undefined;
    throw failure;
  }

  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }

  /** Ends the gathering batch: it is sent, or waits for a free slot. */
  private seal(): void {
    const batch = this.open;
    if (batch === undefined) return;
    this.open = undefined;
    this.ready.push(batch);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.ready.length > 0) this.send(this.ready.shift()!);
  }

  private send(batch: Batch): void {
    const firstSeq = this.nextSeq;
    this.nextSeq += batch.events.length;
    const resync = this.resync;
    this.resync = false;
    this.inFlight++;
    this.counts.batches++;
    this.channel.unary(PUBLISH, { publisherId: this.id, firstSeq: BigInt(firstSeq), events: batch.events, resync, maxWaitMs: this.maxWaitMs }, this.callOptions).then(
      () => this.settled(batch, undefined),
      (error: unknown) => this.settled(batch, error),
    );
  }

  private settled(batch: Batch, error: unknown): void {
    this.inFlight--;
    this.unsettled.delete(batch);
    if (error === undefined) {
      this.counts.published += batch.events.length;
      batch.resolve();
    } else {
      this.counts.failed += batch.events.length;
      this.resync = true;
      this.failure ??= error;
      batch.reject(error);
    }
    this.pump();
  }
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`createPublisher: option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
