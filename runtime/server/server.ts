import type { ServerAuth } from "../auth/server-auth.js";
import { Code } from "../code.js";
import type { ServiceDefinition, ServiceHandlers } from "../definition.js";
import { applyInterceptors, type ServerUnaryCall, type UnaryCall } from "../interceptor.js";
import { RpcError } from "../rpc-error.js";
import type { Connection, Listener } from "../transport/transport.js";
import { type RawHandler, Router } from "./router.js";
import { ServerConnection } from "./server-connection.js";
import type { ServerCore } from "./server-core.js";
import { type AuthFailureInfo, type NormalizedServerOptions, normalizeServerOptions, type ServerOptions } from "./server-options.js";

export type { AuthFailureInfo, ServerOptions } from "./server-options.js";
export type { RawHandler } from "./router.js";

export interface Server {
  /**
   * Serves `definition` with `handlers` (one per method, keyed by localName). Throws RpcError
   * INVALID_ARGUMENT on a missing handler or a method id already served.
   */
  addService<S extends ServiceDefinition>(definition: S, handlers: ServiceHandlers<S>): this;
  /**
   * Serves the methods `methodNames` ("<package>.<service>.<rpc>") of `serviceName` without
   * decoding them: `handler` gets each request's bytes and returns the reply's, in the codec the
   * caller chose (msfd forwards calls this way). Usable before and after start().
   */
  addRawService(serviceName: string, methodNames: readonly string[], handler: RawHandler): this;
  /** Stops serving a service added by addService or addRawService; calls running finish. False if not served. */
  removeService(serviceName: string): boolean;
  /** Binds every listen address; resolves when all are bound, rejects (with none left bound) when one fails. */
  start(): Promise<void>;
  /** After start: the addresses actually bound (tcp port 0 resolved), in the order of `listen`. */
  readonly addresses: readonly string[];
  /**
   * Stops accepting connections, sends GOAWAY on every connection (clients send new calls
   * elsewhere), waits for the calls in flight up to `graceMs` (default 5000), then aborts the
   * signals of those still running, closes every connection and releases the addresses.
   * Idempotent: later calls return the same promise.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Creates a server; nothing is bound until start(). Throws RpcError INVALID_ARGUMENT on bad
 * options. With `auth`, every key is derived here (scrypt, ~70 ms per secret, on this thread):
 * create servers at startup, not on a hot path.
 */
export function createServer(options: ServerOptions): Server {
  return new MsfServer(normalizeServerOptions(options));
}

const DEFAULT_GRACE_MS = 5000;
/** After the grace period, connections get this long to close politely before they are destroyed. */
const CLOSE_LINGER_MS = 1000;

type State =
  | { readonly t: "new" }
  | { readonly t: "starting"; readonly done: Promise<void> }
  | { readonly t: "serving" }
  | { readonly t: "closing"; readonly done: Promise<void> };

class MsfServer implements Server, ServerCore {
  readonly router = new Router();
  readonly maxConcurrentCalls: number;
  readonly intercepted: ((call: ServerUnaryCall) => Promise<unknown>) | undefined;
  readonly auth: ServerAuth | undefined;
  active = 0;
  private state: State = { t: "new" };
  private listeners: Listener[] = [];
  private bound: string[] = [];
  private readonly connections = new Set<ServerConnection>();
  /** Woken when `active` drops to 0 while closing. */
  private onDrained: (() => void) | undefined;
  /** Woken when the last connection closes while closing. */
  private onAllClosed: (() => void) | undefined;

  constructor(private readonly options: NormalizedServerOptions) {
    this.maxConcurrentCalls = options.maxConcurrentCalls;
    this.auth = options.auth;
    this.intercepted =
      options.interceptors.length === 0 ? undefined : applyInterceptors(options.interceptors, (call) => this.runHandler(call));
  }

  get addresses(): readonly string[] {
    return this.bound;
  }

  addService<S extends ServiceDefinition>(definition: S, handlers: ServiceHandlers<S>): this {
    this.router.add(definition, handlers as Record<string, unknown>);
    return this;
  }

  addRawService(serviceName: string, methodNames: readonly string[], handler: RawHandler): this {
    this.router.addRaw(serviceName, methodNames, handler);
    return this;
  }

  removeService(serviceName: string): boolean {
    return this.router.remove(serviceName);
  }

  start(): Promise<void> {
    if (this.state.t !== "new") {
      const state = this.state.t === "closing" ? "closed" : "started";
      return Promise.reject(new RpcError(Code.FAILED_PRECONDITION, `start(): the server was already ${state}`));
    }
    const done = this.bind();
    this.state = { t: "starting", done };
    return done;
  }

  close(options?: { graceMs?: number }): Promise<void> {
    if (this.state.t === "closing") return this.state.done;
    const graceMs = options?.graceMs ?? DEFAULT_GRACE_MS;
    if (typeof graceMs !== "number" || !(graceMs >= 0)) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `close(): graceMs must be a number of ms >= 0, got ${String(graceMs)}`));
    }
    const starting = this.state.t === "starting" ? this.state.done : undefined;
    const done = this.shutdown(graceMs, starting);
    this.state = { t: "closing", done };
    return done;
  }

  callDone(): void {
    this.active--;
    if (this.active === 0) this.onDrained?.();
  }

  connectionClosed(connection: ServerConnection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) this.onAllClosed?.();
  }

  authFailed(info: AuthFailureInfo): void {
    const hook = this.options.onAuthFailure;
    if (hook === undefined) return;
    try {
      hook(info);
    } catch {
      // A failing log hook must not break connection handling (documented on the option).
    }
  }

  private async bind(): Promise<void> {
    const { addresses, maxBodyBytes, unixSocketMode } = this.options;
    const outcomes = await Promise.allSettled(
      addresses.map(({ transport, endpoint }) =>
        transport.listen(endpoint, { maxBodyBytes, unixSocketMode }, (connection) => this.accept(connection)),
      ),
    );
    const listeners = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (failure !== undefined) {
      await Promise.all(listeners.map((listener) => listener.close()));
      if (this.state.t === "starting") this.state = { t: "new" };
      throw failure.reason;
    }
    this.listeners = listeners;
    this.bound = listeners.map((listener) => listener.address);
    if (this.state.t === "starting") this.state = { t: "serving" };
  }

  private accept(connection: Connection): void {
    if (this.state.t === "closing") {
      connection.destroy();
      return;
    }
    const served = new ServerConnection(this, connection);
    this.connections.add(served);
    served.start();
  }

  private async shutdown(graceMs: number, starting: Promise<void> | undefined): Promise<void> {
    if (starting !== undefined) await starting.catch(() => undefined);
    const listenersClosed = this.listeners.map((listener) => listener.close());
    for (const connection of this.connections) connection.goAway();
    if (this.active > 0) await this.waitUntil(graceMs, (wake) => (this.onDrained = wake));
    this.onDrained = undefined;
    if (this.active > 0) {
      const reason = new RpcError(Code.UNAVAILABLE, `the server closed before the call completed (grace period of ${graceMs} ms over)`);
      for (const connection of this.connections) connection.abortAll(reason);
    }
    for (const connection of this.connections) connection.connection.end();
    if (this.connections.size > 0) await this.waitUntil(CLOSE_LINGER_MS, (wake) => (this.onAllClosed = wake));
    this.onAllClosed = undefined;
    for (const connection of this.connections) connection.connection.destroy();
    await Promise.all(listenersClosed);
  }

  /** Resolves when `register`'s wake function is called or after `ms`, whichever comes first. */
  private waitUntil(ms: number, register: (wake: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      register(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The innermost function of the interceptor chain: the handler itself. */
  private async runHandler(call: UnaryCall): Promise<unknown> {
    if (call.side !== "server") throw new RpcError(Code.INTERNAL, "a server interceptor passed on a client call");
    const route = this.router.get(call.method.id);
    if (route === undefined) throw new RpcError(Code.UNIMPLEMENTED, `no handler for ${call.method.fullName}`);
    return route.handler(call.request, call.context);
  }
}
