import type { CallOptions } from "../../client/call-options.js";
import type { Channel } from "../../client/channel-api.js";
import { type ChannelOptions, normalizeChannelOptions, workerAuthOptions } from "../../client/channel-options.js";
import { createChannel } from "../../client/create-channel.js";
import { Code } from "../../code.js";
import { checkTimeout } from "../../deadline.js";
import type { MethodDefinition } from "../../definition.js";
import { applyInterceptors, type ClientUnaryCall, type UnaryCall, type UnaryFn } from "../../interceptor.js";
import { EMPTY_METADATA, type Metadata } from "../../metadata.js";
import { RpcError } from "../../rpc-error.js";
import type { BalanceStrategy, HashKey } from "./agent-types.js";
import { attempt, attemptSync } from "./attempts.js";
import { Backend } from "./backend.js";
import { type Balancer, createBalancer } from "./balancer.js";
import { DEFAULT_EJECTION_POLICY, type EjectionPolicy, checkEjectionPolicy } from "./ejection.js";
import { hashKeyOf, objectKey, parsePath } from "./hash-key.js";
import { pickBackend } from "./pick.js";

/** What a resolver says about a service: where its instances are and how to balance them. */
export interface Resolution {
  /**
   * One target per instance. A target may list several endpoints of the same instance separated
   * by "," ("unix:/run/a.sock,tcp://10.0.0.5:7100"): its channel picks the nearest usable one, as
   * createChannel does.
   */
  readonly endpoints: readonly string[];
  readonly strategy: BalanceStrategy;
  readonly hashKey?: HashKey | undefined;
}

/**
 * Finds a service's instances: msfd's control API (Resolve) in a real deployment, any function in
 * tests or for a naming system of your own. It must bound its own time (a call waits for the
 * first resolution). A rejection is reported to the calls waiting for it.
 */
export type Resolver = (service: string) => Promise<Resolution>;

export interface NamedChannelOptions extends ChannelOptions {
  readonly resolver: Resolver;
  /** Overrides the strategy the resolver reports. */
  readonly strategy?: BalanceStrategy;
  /** Overrides the hash key the resolver reports (consistent_hash). */
  readonly hashKey?: HashKey;
  /** Resolve again this often, ms (> 0). Default 5000. */
  readonly refreshMs?: number;
  /** Attempts per call, the first included (>= 1). Default 3. */
  readonly maxAttempts?: number;
  /** When an instance that keeps failing is left alone, and for how long (ejection.ts). */
  readonly ejection?: EjectionPolicy;
  /** Random numbers for the random strategy. Default Math.random. */
  readonly random?: () => number;
}

/** A Channel to a service by name (direct mode): calls go straight to its instances. */
export interface NamedChannel extends Channel {
  readonly service: string;
  /** The targets of the last successful resolution (empty before the first). */
  readonly endpoints: readonly string[];
  /** Resolves the service now (one resolution at a time: concurrent callers share it). Rejects with the resolver's error. */
  refresh(): Promise<void>;
}

const DEFAULT_REFRESH_MS = 5000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** A failed call asks for a new resolution at most this often. */
const MIN_REFRESH_GAP_MS = 100;

/**
 * Creates a channel that addresses `service` by name, without a broker in the way: it resolves
 * the service's instance endpoints with `options.resolver`, keeps one channel per instance
 * (opened on first use, with the channel options given: codec, auth, connectTimeoutMs, ...), and
 * balances calls across them with the daemon's balancers, ejection and retry rules (a call that
 * never reached an instance goes to another; one that may have run, only if the method is
 * idempotent). The endpoints are resolved on the first call, every `refreshMs`, and soon after a
 * call finds an instance unreachable. Interceptors run once per call, around all its attempts.
 *
 * Nothing happens until the first call (or refresh()). Throws RpcError INVALID_ARGUMENT for a bad option.
 */
export function createNamedChannel(service: string, options: NamedChannelOptions): NamedChannel {
  return new ServiceChannel(service, options);
}

interface EndpointChannel {
  readonly channel: Channel;
  inFlight: number;
  /** Its endpoint left the resolution: closes once its calls in flight complete. */
  gone: boolean;
}

class ServiceChannel implements NamedChannel {
  readonly target: string;
  private readonly resolver: Resolver;
  private readonly endpointOptions: ChannelOptions;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly refreshMs: number;
  private readonly maxAttempts: number;
  private readonly ejection: EjectionPolicy;
  private readonly random: () => number;
  private readonly intercepted: UnaryFn | undefined;
  private backends: readonly Backend[] = [];
  private readonly channels = new Map<Backend, EndpointChannel>();
  private strategy: BalanceStrategy | undefined;
  private balancer: Balancer | undefined;
  private hashKey: HashKey | undefined;
  private resolved = false;
  private refreshing: Promise<void> | undefined;
  private lastRefreshAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private lastEndpoint: string | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    readonly service: string,
    private readonly options: NamedChannelOptions,
  ) {
    if (typeof service !== "string" || service === "") {
      throw new RpcError(Code.INVALID_ARGUMENT, `createNamedChannel: the service must be a non-empty string, got ${JSON.stringify(service)}`);
    }
    this.target = service;
    const what = `createNamedChannel(${service})`;
    if (typeof options !== "object" || options === null || typeof options.resolver !== "function") {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: options.resolver must be a function (service) => Promise<{ endpoints, strategy }>`);
    }
    const { resolver, strategy, hashKey, refreshMs, maxAttempts, ejection, random, interceptors, timeoutMs, ...channelOptions } = options;
    // Validated (and the auth key derived) once here; each instance's channel gets the derived key.
    const normalized = normalizeChannelOptions(what, interceptors === undefined ? channelOptions : { ...channelOptions, interceptors });
    this.endpointOptions = { ...channelOptions, ...(normalized.auth !== undefined && { auth: workerAuthOptions(normalized.auth) }) };
    this.resolver = resolver;
    this.defaultTimeoutMs = checkTimeout(timeoutMs, `${what} option timeoutMs`);
    this.refreshMs = refreshMs ?? DEFAULT_REFRESH_MS;
    if (typeof this.refreshMs !== "number" || !(this.refreshMs > 0)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: option refreshMs must be a number of ms > 0, got ${String(refreshMs)}`);
    }
    this.maxAttempts = maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: option maxAttempts must be an integer >= 1, got ${String(maxAttempts)}`);
    }
    try {
      this.ejection = checkEjectionPolicy(ejection ?? DEFAULT_EJECTION_POLICY);
      if (strategy !== undefined) createBalancer(strategy);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${(error as Error).message}`);
    }
    this.random = random ?? Math.random;
    this.intercepted =
      interceptors === undefined || interceptors.length === 0 ? undefined : applyInterceptors(interceptors, (call) => this.innermost(call));
  }

  get endpoint(): string | undefined {
    return this.closed === undefined ? this.lastEndpoint : undefined;
  }

  get endpoints(): readonly string[] {
    return this.backends.map((backend) => backend.endpoint);
  }

  unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res> {
    if (this.intercepted === undefined) return this.invoke(method, request, options, options?.metadata) as Promise<Res>;
    const call: ClientUnaryCall = { side: "client", method, request, metadata: toMap(options?.metadata), options: options ?? {} };
    return this.intercepted(call) as Promise<Res>;
  }

  unarySync<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Res {
    if (this.closed !== undefined) throw this.closedError(method);
    if (!this.resolved) {
      throw new RpcError(
        Code.UNAVAILABLE,
        `call to ${method.fullName}: the channel to service "${this.service}" has not resolved its endpoints yet (a blocking call cannot wait for it): make an async call or await refresh() first`,
        { unsent: true },
      );
    }
    const deadline = this.deadlineOf(method, options);
    const metadata = options?.metadata;
    const key = this.keyOf(method, request, metadata);
    const balancer = this.balancer!;
    return attemptSync({
      ...this.plan(method, key, balancer, deadline),
      send: (backend, timeoutMs) => {
        const target = this.channelFor(backend);
        target.inFlight++;
        try {
          return target.channel.unarySync(method, request, callOptions(timeoutMs, metadata, undefined));
        } finally {
          this.released(target);
        }
      },
    });
  }

  refresh(): Promise<void> {
    if (this.closed !== undefined) return Promise.reject(new RpcError(Code.UNAVAILABLE, `the channel to service "${this.service}" is closed`));
    this.refreshing ??= this.resolve().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      const channels = [...this.channels.values()];
      this.channels.clear();
      await Promise.all(channels.map((target) => target.channel.close()));
    })();
    return this.closed;
  }

  // --- calls ---

  private innermost(call: UnaryCall): Promise<unknown> {
    if (call.side !== "client") return Promise.reject(new RpcError(Code.INTERNAL, "a client interceptor passed on a server call"));
    return this.invoke(call.method, call.request, call.options, call.metadata.size === 0 ? undefined : call.metadata);
  }

  private async invoke(
    method: MethodDefinition,
    request: unknown,
    options: CallOptions | undefined,
    metadata: Metadata | Record<string, string> | undefined,
  ): Promise<unknown> {
    if (this.closed !== undefined) throw this.closedError(method);
    const deadline = this.deadlineOf(method, options);
    if (!this.resolved || (this.backends.length === 0 && Date.now() - this.lastRefreshAt >= MIN_REFRESH_GAP_MS)) {
      try {
        await this.refresh();
      } catch (error) {
        if (!this.resolved) throw error;
      }
    }
    const key = this.keyOf(method, request, metadata);
    const signal = options?.signal;
    return attempt({
      ...this.plan(method, key, this.balancer!, deadline),
      send: async (backend, timeoutMs) => {
        const target = this.channelFor(backend);
        target.inFlight++;
        try {
          return await target.channel.unary(method, request, callOptions(timeoutMs, metadata, signal));
        } finally {
          this.released(target);
        }
      },
    });
  }

  private plan(method: MethodDefinition, key: string | undefined, balancer: Balancer, deadline: number) {
    return {
      label: `call to ${method.fullName} (service "${this.service}")`,
      pick: (tried: ReadonlySet<Backend> | undefined, now: number) => pickBackend(this.backends, balancer, key, tried, now),
      balancer,
      idempotent: method.idempotent,
      maxAttempts: this.maxAttempts,
      deadline,
      clock: Date.now,
      noBackend: () =>
        new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: service "${this.service}" has no instance (the resolver returned no endpoints)`, {
          unsent: true,
        }),
      unreachable: () => this.refreshSoon(),
    };
  }

  private deadlineOf(method: MethodDefinition, options: CallOptions | undefined): number {
    const timeoutMs = options?.timeoutMs !== undefined ? checkTimeout(options.timeoutMs, `timeoutMs of ${method.fullName}`) : this.defaultTimeoutMs;
    return timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  }

  /**
   * The call's consistent-hash key: a metadata entry; or a request field, by its TypeScript
   * (= proto3 JSON) name path ("user.id"), or by its number path ("3.1": read from the protobuf
   * encoding, as msfd does), so a key means the same here and through the broker.
   */
  private keyOf(method: MethodDefinition, request: unknown, metadata: Metadata | Record<string, string> | undefined): string | undefined {
    const hashKey = this.hashKey;
    if (hashKey === undefined || this.strategy !== "consistent_hash") return undefined;
    if (hashKey.from === "metadata") {
      if (metadata === undefined) return undefined;
      return metadata instanceof Map ? metadata.get(hashKey.name) : (metadata as Record<string, string>)[hashKey.name];
    }
    const path = parsePath(hashKey.name);
    if (path.numbers === undefined) return objectKey(request, path.keys);
    try {
      return hashKeyOf(hashKey, 0, method.requestType.encode(request).finish(), EMPTY_METADATA);
    } catch {
      // A request that does not encode fails in the channel, which reports it; it has no key.
      return undefined;
    }
  }

  private channelFor(backend: Backend): EndpointChannel {
    let target = this.channels.get(backend);
    if (target === undefined) {
      target = { channel: createChannel(backend.endpoint, this.endpointOptions), inFlight: 0, gone: false };
      this.channels.set(backend, target);
    }
    this.lastEndpoint = backend.endpoint;
    return target;
  }

  private released(target: EndpointChannel): void {
    target.inFlight--;
    if (target.gone && target.inFlight === 0) void target.channel.close();
  }

  private closedError(method: MethodDefinition): RpcError {
    return new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: the channel to service "${this.service}" is closed`, { unsent: true });
  }

  // --- resolution ---

  private refreshSoon(): void {
    if (this.closed !== undefined || this.refreshing !== undefined || Date.now() - this.lastRefreshAt < MIN_REFRESH_GAP_MS) return;
    // A failed refresh keeps the endpoints known; the next failure or tick tries again.
    this.refresh().catch(() => undefined);
  }

  private async resolve(): Promise<void> {
    this.lastRefreshAt = Date.now();
    let resolution: Resolution;
    try {
      resolution = await this.resolver(this.service);
    } catch (error) {
      const cause = RpcError.from(error, Code.UNAVAILABLE);
      throw new RpcError(cause.code, `resolving service "${this.service}": ${cause.rawMessage}`, { cause: error, unsent: true });
    }
    if (this.closed !== undefined) return;
    this.apply(this.checked(resolution));
    this.resolved = true;
    if (this.timer === undefined) {
      // Unref'd: a channel nobody uses does not keep the process alive.
      this.timer = setInterval(() => this.refresh().catch(() => undefined), this.refreshMs);
      this.timer.unref();
    }
  }

  private checked(resolution: Resolution): Resolution {
    const endpoints = (resolution as Partial<Resolution> | undefined)?.endpoints;
    if (!Array.isArray(endpoints) || endpoints.some((endpoint) => typeof endpoint !== "string" || endpoint === "")) {
      throw new RpcError(
        Code.INTERNAL,
        `resolving service "${this.service}": the resolver returned ${JSON.stringify(resolution)}; expected { endpoints: string[], strategy }`,
        { unsent: true },
      );
    }
    return resolution;
  }

  private apply(resolution: Resolution): void {
    const strategy = this.options.strategy ?? resolution.strategy;
    if (strategy !== this.strategy || this.balancer === undefined) {
      try {
        this.balancer = createBalancer(strategy, { random: this.random });
      } catch (error) {
        throw new RpcError(Code.INTERNAL, `resolving service "${this.service}": ${(error as Error).message}`, { unsent: true });
      }
      this.strategy = strategy;
    }
    this.hashKey = this.options.hashKey ?? resolution.hashKey;
    const known = new Map(this.backends.map((backend) => [backend.endpoint, backend]));
    const next: Backend[] = [];
    for (const endpoint of new Set(resolution.endpoints)) {
      next.push(known.get(endpoint) ?? new Backend({ id: endpoint, service: this.service, endpoint, ejection: this.ejection }));
      known.delete(endpoint);
    }
    this.backends = next;
    for (const backend of known.values()) {
      backend.removed = true;
      const target = this.channels.get(backend);
      if (target === undefined) continue;
      this.channels.delete(backend);
      target.gone = true;
      if (target.inFlight === 0) void target.channel.close();
    }
  }
}

function callOptions(timeoutMs: number | undefined, metadata: Metadata | Record<string, string> | undefined, signal: AbortSignal | undefined): CallOptions {
  const options: CallOptions = {};
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  if (metadata !== undefined) options.metadata = metadata;
  if (signal !== undefined) options.signal = signal;
  return options;
}

function toMap(metadata: Metadata | Record<string, string> | undefined): Map<string, string> {
  if (metadata === undefined) return new Map();
  return metadata instanceof Map ? new Map(metadata) : new Map(Object.entries(metadata));
}
