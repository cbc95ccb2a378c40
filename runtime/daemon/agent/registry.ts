import type { BalanceConfig, HashKey, InstanceInfo, ServedMethod, ServedService } from "./agent-types.js";
import { Backend, type BackendStatus } from "./backend.js";
import { type Balancer, createBalancer } from "./balancer.js";
import { DEFAULT_EJECTION_POLICY, type EjectionPolicy, checkEjectionPolicy } from "./ejection.js";
import { type Picked, pickBackend } from "./pick.js";

/** What the config says about routing one service (ServiceConfig's balance and idempotent_methods). */
export interface ServiceSettings {
  readonly balance: BalanceConfig;
  /** Method names (as in the .proto, localName or fullName) safe to retry after they may have run. */
  readonly idempotentMethods: readonly string[];
}

export interface RegistryOptions {
  /** When backends are ejected and for how long (ejection.ts). */
  readonly ejection?: EjectionPolicy;
  /** Random numbers for the random strategy (a seeded generator in tests). */
  readonly random?: () => number;
  /** ms since the epoch; Date.now by default (a fake clock in tests). */
  readonly clock?: () => number;
}

/** Told about changes, in the order they happen. Listener errors are not caught: keep them small. */
export interface RegistryListener {
  backendAdded?(backend: Backend): void;
  backendRemoved?(backend: Backend): void;
  /** No backend has this endpoint any more: connections to it may close (once their calls complete). */
  endpointGone?(endpoint: string): void;
}

/** Where a method id goes: the configured service that serves it, and the method as served. */
export interface MethodRoute {
  readonly service: RoutedService;
  readonly method: ServedMethod;
}

/** A service as `msf status` shows it. */
export interface ServiceStatus {
  readonly name: string;
  readonly strategy: string;
  readonly hashKey: HashKey | undefined;
  readonly idempotentMethods: readonly string[];
  /** Full names of the methods its instances serve. */
  readonly methods: readonly string[];
  readonly backends: readonly BackendStatus[];
}

const DEFAULT_SETTINGS: ServiceSettings = { balance: { strategy: "round_robin", hashKey: undefined }, idempotentMethods: [] };

/**
 * One configured service: its live backends (one per ready instance, in the order they came up),
 * its balancer and what it serves.
 */
export class RoutedService {
  /** Replaced, never mutated, on every change: a pick in progress sees a consistent list. */
  backends: readonly Backend[] = [];
  settings: ServiceSettings;
  balancer: Balancer;
  /**
   * The methods served, by id and by name (rpc name, localName, fullName). Kept after the last
   * backend left, so a call to a service whose instances are all down is UNAVAILABLE naming the
   * service, not UNIMPLEMENTED.
   */
  methodsById: ReadonlyMap<number, ServedMethod> = new Map();
  private methodsByName: ReadonlyMap<string, ServedMethod> = new Map();
  private idempotentNames: ReadonlySet<string>;

  constructor(
    readonly name: string,
    settings: ServiceSettings,
    private readonly random: () => number,
  ) {
    this.settings = settings;
    this.balancer = createBalancer(settings.balance.strategy, { random });
    this.idempotentNames = new Set(settings.idempotentMethods);
  }

  get hashKey(): HashKey | undefined {
    return this.settings.balance.hashKey;
  }

  /** A method by its rpc name, localName or fullName. */
  method(name: string): ServedMethod | undefined {
    return this.methodsByName.get(name);
  }

  /** Safe to send again after it may have run: marked idempotent in the .proto or listed in idempotent_methods. */
  isIdempotent(method: ServedMethod): boolean {
    const names = this.idempotentNames;
    return method.idempotent || names.has(method.name) || names.has(method.localName) || names.has(method.fullName);
  }

  /** The backend for one call (attempt): see pickBackend. */
  pick(key: string | undefined, exclude: ReadonlySet<Backend> | undefined, now: number): Picked | undefined {
    return pickBackend(this.backends, this.balancer, key, exclude, now);
  }

  configure(settings: ServiceSettings): void {
    if (settings.balance.strategy !== this.settings.balance.strategy) {
      this.balancer = createBalancer(settings.balance.strategy, { random: this.random });
    }
    this.settings = settings;
    this.idempotentNames = new Set(settings.idempotentMethods);
  }

  /** Recomputes the methods from the backends (kept as they were when none is left). */
  refreshMethods(): void {
    if (this.backends.length === 0) return;
    const byId = new Map<number, ServedMethod>();
    const byName = new Map<string, ServedMethod>();
    for (const backend of this.backends) {
      for (const method of backend.methods.values()) {
        if (byId.has(method.id)) continue;
        byId.set(method.id, method);
        for (const name of [method.fullName, method.localName, method.name]) if (!byName.has(name)) byName.set(name, method);
      }
    }
    this.methodsById = byId;
    this.methodsByName = byName;
  }

  status(now: number): ServiceStatus {
    return {
      name: this.name,
      strategy: this.settings.balance.strategy,
      hashKey: this.settings.balance.hashKey,
      idempotentMethods: this.settings.idempotentMethods,
      methods: [...this.methodsById.values()].map((method) => method.fullName),
      backends: this.backends.map((backend) => backend.status(now)),
    };
  }
}

/**
 * The agent's registry: configured services → their live backends, and method id → service.
 * Fed by the host's events (up when an instance is ready, down before it stops taking calls) and
 * by the config (configure/remove). Synchronous and single-threaded.
 *
 * Method ids: every service's instances report the methods they serve; a method id served by two
 * configured services (the same proto service loaded twice) routes to the one registered first.
 */
export class Registry {
  private readonly entries = new Map<string, RoutedService>();
  private readonly routes = new Map<number, RoutedService[]>();
  private readonly endpointRefs = new Map<string, number>();
  private readonly listeners = new Set<RegistryListener>();
  private readonly ejection: EjectionPolicy;
  private readonly random: () => number;
  readonly clock: () => number;

  constructor(options: RegistryOptions = {}) {
    this.ejection = checkEjectionPolicy(options.ejection ?? DEFAULT_EJECTION_POLICY);
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? Date.now;
  }

  /** Sets how `service` is balanced (creating it, without backends, if new). Throws on an unknown strategy. */
  configure(service: string, settings: ServiceSettings): RoutedService {
    const existing = this.entries.get(service);
    if (existing !== undefined) {
      existing.configure(settings);
      return existing;
    }
    const entry = new RoutedService(service, settings, this.random);
    this.entries.set(service, entry);
    return entry;
  }

  /**
   * An instance is ready: adds a backend for it to its service (info.service; configured with
   * round_robin if it was not). An instance already known by id is replaced. Returns the backend.
   */
  up(info: InstanceInfo, services: readonly ServedService[]): Backend {
    const entry = this.entries.get(info.service) ?? this.configure(info.service, DEFAULT_SETTINGS);
    const backend = new Backend(
      {
        id: info.id,
        service: info.service,
        endpoint: info.endpoint,
        slot: `${info.service}#${info.index}`,
        methods: services.flatMap((served) => served.methods),
        instance: info,
        ejection: this.ejection,
      },
      this.clock(),
    );
    const previous = entry.backends.find((known) => known.id === info.id);
    entry.backends = [...entry.backends.filter((known) => known !== previous), backend];
    this.retain(backend.endpoint);
    entry.refreshMethods();
    for (const id of entry.methodsById.keys()) this.addRoute(id, entry);
    for (const listener of this.listeners) listener.backendAdded?.(backend);
    if (previous !== undefined) this.detach(previous);
    return backend;
  }

  /** An instance stops taking calls: its backend leaves its service (calls in flight complete). Returns it, if known. */
  down(info: Pick<InstanceInfo, "service" | "id">): Backend | undefined {
    const entry = this.entries.get(info.service);
    const backend = entry?.backends.find((known) => known.id === info.id);
    if (entry === undefined || backend === undefined) return undefined;
    entry.backends = entry.backends.filter((known) => known !== backend);
    entry.refreshMethods();
    this.detach(backend);
    return backend;
  }

  /** The service is no longer configured: its backends leave and its methods stop routing. */
  remove(service: string): boolean {
    const entry = this.entries.get(service);
    if (entry === undefined) return false;
    const backends = entry.backends;
    entry.backends = [];
    this.entries.delete(service);
    for (const [id, services] of this.routes) {
      const kept = services.filter((candidate) => candidate !== entry);
      if (kept.length === 0) this.routes.delete(id);
      else if (kept.length !== services.length) this.routes.set(id, kept);
    }
    for (const backend of backends) this.detach(backend);
    return true;
  }

  service(name: string): RoutedService | undefined {
    return this.entries.get(name);
  }

  /** Names of the configured services, in the order they were first seen. */
  services(): string[] {
    return [...this.entries.keys()];
  }

  /** Where a call for `methodId` goes, or undefined when no service serves it. */
  route(methodId: number): MethodRoute | undefined {
    const entry = this.routes.get(methodId)?.[0];
    const method = entry?.methodsById.get(methodId);
    return entry === undefined || method === undefined ? undefined : { service: entry, method };
  }

  /** Every service with its backends and counters, for `msf status`. */
  snapshot(): ServiceStatus[] {
    const now = this.clock();
    return [...this.entries.values()].map((entry) => entry.status(now));
  }

  /** Calls `listener` on every later change; returns the unsubscribe function. */
  subscribe(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private addRoute(id: number, entry: RoutedService): void {
    const services = this.routes.get(id);
    if (services === undefined) this.routes.set(id, [entry]);
    else if (!services.includes(entry)) services.push(entry);
  }

  private retain(endpoint: string): void {
    this.endpointRefs.set(endpoint, (this.endpointRefs.get(endpoint) ?? 0) + 1);
  }

  /** Marks `backend` removed, tells the listeners, and releases its endpoint. */
  private detach(backend: Backend): void {
    backend.removed = true;
    for (const listener of this.listeners) listener.backendRemoved?.(backend);
    const refs = (this.endpointRefs.get(backend.endpoint) ?? 1) - 1;
    if (refs > 0) {
      this.endpointRefs.set(backend.endpoint, refs);
      return;
    }
    this.endpointRefs.delete(backend.endpoint);
    for (const listener of this.listeners) listener.endpointGone?.(backend.endpoint);
  }
}
