import type { Channel } from "../../client/channel-api.js";
import type { ChannelAuthOptions } from "../../client/channel-options.js";
import { createChannel } from "../../client/create-channel.js";
import { Code } from "../../code.js";
import { rawCodec } from "../../codec/raw.js";
import type { MethodDefinition } from "../../definition.js";
import type { Metadata } from "../../metadata.js";
import { rawMethod } from "../../raw-method.js";
import { RpcError } from "../../rpc-error.js";
import type { ServedMethod } from "./agent-types.js";
import { attempt } from "./attempts.js";
import { hashKeyOf } from "./hash-key.js";
import type { Registry } from "./registry.js";

export interface ForwarderOptions {
  /** Credentials for the instances, when they require CHAP. */
  readonly auth?: ChannelAuthOptions;
  /** Attempts per call, the first included (>= 1). Default 3. */
  readonly maxAttempts?: number;
  /** Time allowed to connect to an instance, ms. Default 1000 (instances are local sockets). */
  readonly connectTimeoutMs?: number;
  /** Largest reply body accepted from an instance, bytes. Default: the channel's (4 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * A call to a service with no ready instance waits for one this long (within its deadline)
   * when `expectsInstance(service)` says one is coming (restarting after a crash, starting, being
   * reloaded); otherwise it fails UNAVAILABLE at once. Default 2000 ms.
   */
  readonly waitForInstanceMs?: number;
  /** Whether a service without a ready instance will have one soon. Default: never wait. */
  readonly expectsInstance?: (service: string) => boolean;
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_WAIT_FOR_INSTANCE_MS = 2000;

/** A channel to one instance endpoint in one codec, with the forwarded calls in flight on it. */
interface InstanceChannel {
  readonly channel: Channel;
  inFlight: number;
  /** Its endpoint left the registry: close once the calls in flight complete. */
  gone: boolean;
}

/**
 * Sends calls addressed to a service by name to one of its instances (msfd's broker), bytes
 * unchanged, and returns the reply's bytes.
 *
 * - Backend: the service's balancer picks among the instances not ejected (registry.ts, pick.ts);
 *   consistent_hash takes its key from the call (hash-key.ts).
 * - Retries (attempts.ts), at most `maxAttempts` attempts in all, each on a backend this call
 *   has not tried: a call that never reached an instance (RpcError.unsent: no connection, refused
 *   unstarted by a draining instance) always; a call that may have run and failed UNAVAILABLE
 *   (connection lost) only when the method is idempotent (its .proto option, or the service's
 *   idempotent_methods). An answer of the instance (a reply or its handler's error) is final.
 * - Deadline: absolute (Date.now() clock, Infinity for none), shared by all attempts: each
 *   attempt gets the time left; none starts after it passed (DEADLINE_EXCEEDED). An idempotent
 *   call with other instances to go to gives an attempt half the time left (attempts.ts), so a
 *   paused instance that never answers is left for another and soon ejected.
 * - Errors keep the instance's code and message. A service without a ready instance is
 *   UNAVAILABLE naming the service.
 * - Channels: one per (instance endpoint, codec id), opened on first use, closed when the
 *   endpoint leaves the registry and its calls in flight have completed (a draining instance
 *   finishes its calls).
 */
export class Forwarder {
  private readonly channels = new Map<string, InstanceChannel>();
  private readonly definitions = new Map<string, MethodDefinition<Uint8Array, Uint8Array>>();
  private readonly maxAttempts: number;
  private readonly connectTimeoutMs: number;
  private readonly unsubscribe: () => void;
  private closed: Promise<void> | undefined;
  /** Calls waiting for an instance of a service (by service name): woken when a backend is added. */
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly registry: Registry,
    private readonly options: ForwarderOptions = {},
  ) {
    const { maxAttempts = DEFAULT_MAX_ATTEMPTS, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RpcError(Code.INVALID_ARGUMENT, `Forwarder option maxAttempts must be an integer >= 1, got ${String(maxAttempts)}`);
    }
    this.maxAttempts = maxAttempts;
    this.connectTimeoutMs = connectTimeoutMs;
    this.unsubscribe = registry.subscribe({
      endpointGone: (endpoint) => this.endpointGone(endpoint),
      backendAdded: (backend) => this.wake(backend.service),
    });
  }

  /** Channels to instances currently open (for status and tests). */
  get openChannels(): number {
    return this.channels.size;
  }

  async forward(
    service: string,
    method: ServedMethod,
    codecId: number,
    body: Uint8Array,
    metadata: Metadata,
    deadline: number,
  ): Promise<Uint8Array> {
    if (this.closed !== undefined) throw new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: msfd is shutting down`);
    const entry = this.registry.service(service);
    if (entry === undefined) {
      throw new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: no service named "${service}" is loaded`);
    }
    if (entry.backends.length === 0 && this.options.expectsInstance?.(service) === true) {
      await this.waitForInstance(service, Math.min(deadline, Date.now() + (this.options.waitForInstanceMs ?? DEFAULT_WAIT_FOR_INSTANCE_MS)));
    }
    const balance = entry.settings.balance;
    const key =
      balance.strategy === "consistent_hash" && balance.hashKey !== undefined ? hashKeyOf(balance.hashKey, codecId, body, metadata) : undefined;
    const definition = this.definition(method);
    const metadataOption = metadata.size > 0 ? metadata : undefined;
    return attempt({
      label: `call to ${method.fullName} (service "${service}")`,
      pick: (tried, now) => entry.pick(key, tried, now),
      balancer: entry.balancer,
      idempotent: entry.isIdempotent(method),
      maxAttempts: this.maxAttempts,
      deadline,
      clock: this.registry.clock,
      noBackend: () => new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: service "${service}" has no ready instance`),
      backendCount: () => entry.backends.length,
      send: async (backend, timeoutMs) => {
        const target = this.channel(backend.endpoint, codecId);
        target.inFlight++;
        try {
          return await target.channel.unary(definition, body, {
            ...(timeoutMs !== undefined && { timeoutMs }),
            ...(metadataOption !== undefined && { metadata: metadataOption }),
          });
        } finally {
          target.inFlight--;
          if (target.gone && target.inFlight === 0) void target.channel.close();
        }
      },
    });
  }

  /** Resolves when a backend of `service` is added, or at `until` (Date.now() ms), whichever is first. */
  private waitForInstance(service: string, until: number): Promise<void> {
    const waitMs = until - Date.now();
    if (waitMs <= 0 || waitMs === Infinity) return Promise.resolve();
    return new Promise((resolve) => {
      let wakers = this.waiting.get(service);
      if (wakers === undefined) this.waiting.set(service, (wakers = new Set()));
      const wake = (): void => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      wakers.add(wake);
    });
  }

  private wake(service: string): void {
    const wakers = this.waiting.get(service);
    if (wakers === undefined) return;
    this.waiting.delete(service);
    for (const wake of wakers) wake();
  }

  /** Closes every channel to the instances; later forward() calls fail UNAVAILABLE. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.unsubscribe();
      for (const service of [...this.waiting.keys()]) this.wake(service);
      const channels = [...this.channels.values()];
      this.channels.clear();
      await Promise.all(channels.map((target) => target.channel.close()));
    })();
    return this.closed;
  }

  private channel(endpoint: string, codecId: number): InstanceChannel {
    const id = `${codecId} ${endpoint}`;
    const existing = this.channels.get(id);
    if (existing !== undefined) return existing;
    const channel = createChannel(endpoint, {
      codec: rawCodec(codecId),
      connectTimeoutMs: this.connectTimeoutMs,
      ...(this.options.auth !== undefined && { auth: this.options.auth }),
      ...(this.options.maxBodyBytes !== undefined && { maxBodyBytes: this.options.maxBodyBytes }),
    });
    const created: InstanceChannel = { channel, inFlight: 0, gone: false };
    this.channels.set(id, created);
    return created;
  }

  private endpointGone(endpoint: string): void {
    for (const [id, target] of this.channels) {
      if (id.slice(id.indexOf(" ") + 1) !== endpoint) continue;
      // Out of the map now: an instance that comes back on the same endpoint gets a new channel.
      this.channels.delete(id);
      target.gone = true;
      if (target.inFlight === 0) void target.channel.close();
    }
  }

  private definition(method: ServedMethod): MethodDefinition<Uint8Array, Uint8Array> {
    let definition = this.definitions.get(method.fullName);
    if (definition === undefined) {
      definition = rawMethod(method.fullName, method.idempotent);
      this.definitions.set(method.fullName, definition);
    }
    return definition;
  }
}
