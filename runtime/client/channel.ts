import type { ClientAuth } from "../auth/client-auth.js";
import { Code } from "../code.js";
import type { Codec } from "../codec/codec.js";
import { checkTimeout } from "../deadline.js";
import type { MethodDefinition } from "../definition.js";
import { applyInterceptors, type ClientUnaryCall, type UnaryCall, type UnaryFn } from "../interceptor.js";
import type { Metadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";
import { timerQueue } from "../timer-queue.js";
import type { ConnectOptions, Connection } from "../transport/transport.js";
import { decodeErrorBody } from "../wire/error-body.js";
import { FrameFlags, type FrameHeader } from "../wire/header.js";
import { encodeMetadata } from "../wire/metadata-block.js";
import type { CallOptions } from "./call-options.js";
import type { Channel } from "./channel-api.js";
import { type CallOwner, ClientCall, newCallPromise } from "./client-call.js";
import { ClientConnection, type ConnectionOwner } from "./client-connection.js";
import { type ChannelOptions, type NormalizedChannelOptions, workerAuthOptions } from "./channel-options.js";
import type { SelectionRule } from "./endpoint-order.js";
import { type AttemptFailure, EndpointPool, type PoolEntry } from "./endpoint-pool.js";
import type { ChannelTarget } from "./endpoint-target.js";
import { SyncCaller } from "./sync-caller.js";
import { remoteError } from "./remote-error.js";

/** Backoff between failed connection passes: doubles from the first step up to the cap. */
const BACKOFF_FIRST_MS = 50;
const BACKOFF_CAP_MS = 1000;
/** After a failed authentication, calls fail at once (same UNAUTHENTICATED) for this long before the next try. */
const AUTH_RETRY_MS = 1000;

/**
 * The async channel: one connection to its target at a time, opened on the first call.
 *
 * - Transport selection: the target's endpoints are kept in order of preference with a backoff
 *   for each that failed (endpoint-order.ts, endpoint-pool.ts). A connection pass tries them in
 *   that order, those in backoff last, until one connects.
 * - Calls made while connecting wait in `waiting` and are written as soon as a connection is up,
 *   whichever endpoint it reached (a call never written may go to any endpoint); if every
 *   endpoint fails they fail UNAVAILABLE naming each endpoint and why. After a failed pass the
 *   next is not made before a backoff (50 ms, doubling, capped at 1 s); calls made meanwhile wait
 *   for that pass.
 * - Moving back: while connected to an endpoint other than the most preferred, the channel tries
 *   the preferred ones again in the background when their backoff ends; on success new calls go to
 *   the new connection and the old one closes once its calls in flight have completed.
 * - A connection lost with calls in flight fails those calls UNAVAILABLE (they may have run); the
 *   next call reconnects by itself.
 * - GOAWAY: the connection keeps its calls in flight until they complete and then closes; new
 *   calls open a new connection. A call the server refused unstarted (FrameFlags.REFUSED, it
 *   crossed the GOAWAY) is sent once more, on the new connection.
 * - Deadlines: one entry per call in the shared TimerQueue; when it passes the call fails
 *   DEADLINE_EXCEEDED and, if it was written, a CANCEL is sent (a late reply is dropped).
 * - Authentication (option auth): a new connection is usable once its handshake succeeded
 *   (client-connection.ts); calls wait in `waiting` meanwhile. When it fails, the waiting calls
 *   fail UNAUTHENTICATED with the reason, and so does every call for AUTH_RETRY_MS after, at once
 *   and without connecting: a wrong secret never turns into a reconnect loop against the server.
 *   A connection that closes during its handshake counts as a failed connection attempt.
 */
export class MsfChannel implements Channel, CallOwner, ConnectionOwner {
  readonly codecId: number;
  /** Channel.target: the target as given (a list joined with ","). */
  readonly target: string;
  private readonly pool: EndpointPool;
  private readonly codec: Codec;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly connectOptions: ConnectOptions;
  private readonly intercepted: UnaryFn | undefined;
  /** The connection new calls are written on. */
  private current: ClientConnection | undefined;
  /** The endpoint of each open connection. */
  private readonly endpoints = new WeakMap<ClientConnection, PoolEntry>();
  /** Connections that got GOAWAY and still have calls in flight. */
  private readonly draining = new Set<ClientConnection>();
  /** Calls not written yet (waiting for a connection) with their encoded requests, in call order. */
  private readonly waiting = new Map<ClientCall, Uint8Array>();
  /** The connection attempt in progress (a pass for waiting calls, or a move to a preferred endpoint); never rejects. */
  private attempt: Promise<void> | undefined;
  /** Failed passes in a row, and the channel-wide backoff they set. */
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Fires (unref'd) when an endpoint preferred over the current one leaves its backoff. */
  private moveTimer: NodeJS.Timeout | undefined;
  private closed: Promise<void> | undefined;
  private syncCaller: SyncCaller | undefined;
  /** Key derived once, at createChannel; undefined: no authentication. */
  private readonly auth: ClientAuth | undefined;
  /** The connection whose authentication handshake is running (it becomes `current` on success). */
  private handshaking: ClientConnection | undefined;
  /** Set by a failed authentication: until `until`, calls that need a connection fail with `message`. */
  private authFailure: { readonly message: string; readonly until: number } | undefined;
  readonly #rawOptions: ChannelOptions;

  constructor(
    target: ChannelTarget,
    rule: SelectionRule,
    options: NormalizedChannelOptions,
    /**
     * As given, for the blocking caller's worker (which validates them again). An ES private
     * field: it may hold a secret, which util.inspect and JSON.stringify must never show.
     */
    rawOptions: ChannelOptions,
  ) {
    this.#rawOptions = rawOptions;
    this.target = target.display;
    this.pool = new EndpointPool(target, rule);
    this.codec = options.codec;
    this.codecId = options.codec.id;
    this.defaultTimeoutMs = options.timeoutMs;
    this.auth = options.auth;
    this.connectOptions = { connectTimeoutMs: options.connectTimeoutMs, maxBodyBytes: options.maxBodyBytes };
    this.intercepted =
      options.interceptors.length === 0 ? undefined : applyInterceptors(options.interceptors, (call) => this.innermost(call));
  }

  unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res> {
    if (this.intercepted === undefined) return this.invoke(method, request, options, options?.metadata) as Promise<Res>;
    const call: ClientUnaryCall = {
      side: "client",
      method,
      request,
      metadata: toMap(options?.metadata),
      options: options ?? {},
    };
    return this.intercepted(call) as Promise<Res>;
  }

  get endpoint(): string | undefined {
    const current = this.current;
    return current === undefined ? undefined : this.endpoints.get(current)?.uri;
  }

  unarySync<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Res {
    if (this.closed !== undefined) throw this.closedError(method);
    this.syncCaller ??= createSyncCaller(this.target, this.#rawOptions, this.auth);
    return this.syncCaller.call(method, request, options);
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  // --- the call path ---

  private invoke(
    method: MethodDefinition,
    request: unknown,
    options: CallOptions | undefined,
    metadata: Metadata | Record<string, string> | undefined,
  ): Promise<unknown> {
    if (this.closed !== undefined) return Promise.reject(this.closedError(method, true));
    let timeoutMs = this.defaultTimeoutMs;
    let signal: AbortSignal | undefined;
    let body: Uint8Array;
    let metadataBlock: Uint8Array | undefined;
    try {
      if (options !== undefined) {
        if (options.timeoutMs !== undefined) timeoutMs = checkTimeout(options.timeoutMs, `timeoutMs of ${method.fullName}`);
        signal = options.signal;
      }
      body = this.codec.encode(method.requestType, request);
      if (metadata !== undefined) metadataBlock = encodeMetadata(metadata);
    } catch (error) {
      const rpcError = RpcError.from(error, Code.INVALID_ARGUMENT);
      return Promise.reject(new RpcError(rpcError.code, `call to ${method.fullName}: ${rpcError.rawMessage}`, { cause: error }));
    }
    if (signal?.aborted) return Promise.reject(this.cancelledError(method, signal));
    if (timeoutMs === 0) return Promise.reject(this.deadlineError(method, 0));
    let now = 0;
    let deadline = Infinity;
    if (timeoutMs !== undefined) {
      now = Date.now();
      deadline = now + timeoutMs;
    }
    const promise = newCallPromise();
    const call = new ClientCall(this, method, request, metadataBlock, deadline, timeoutMs);
    if (timeoutMs !== undefined) timerQueue.add(call, deadline, timeoutMs);
    if (signal !== undefined) {
      call.signal = signal;
      signal.addEventListener("abort", call);
    }
    const connection = this.current;
    // A connection whose peer has ended is not written to: the call waits for the next one.
    if (connection !== undefined && !connection.connection.closed) connection.write(call, body, now);
    else this.enqueue(call, body);
    return promise;
  }

  /** The innermost function of the client interceptor chain: sends the call. */
  private innermost(call: UnaryCall): Promise<unknown> {
    if (call.side !== "client") return Promise.reject(new RpcError(Code.INTERNAL, "a client interceptor passed on a server call"));
    return this.invoke(call.method, call.request, call.options, call.metadata.size === 0 ? undefined : call.metadata);
  }

  settle(call: ClientCall, header: FrameHeader, body: Uint8Array): void {
    if (!call.pending) return;
    if ((header.flags & FrameFlags.REFUSED) !== 0 && !call.resent && this.closed === undefined) {
      // The server did not start it (it was draining): send it once more, on a new connection.
      call.resent = true;
      let again: Uint8Array;
      try {
        again = this.codec.encode(call.method.requestType, call.request);
      } catch (error) {
        this.finish(call);
        call.reject(RpcError.from(error, Code.INTERNAL));
        return;
      }
      const connection = this.current;
      if (connection !== undefined && !connection.connection.closed) connection.write(call, again, Date.now());
      else this.enqueue(call, again);
      return;
    }
    this.finish(call);
    const method = call.method;
    if (header.status === Code.OK) {
      if (header.codec !== this.codecId) {
        const expected = `${this.codecId} (${this.codec.name})`;
        const message = `reply to ${method.fullName} from ${this.target} is in codec ${header.codec}, expected ${expected}`;
        call.reject(new RpcError(Code.INTERNAL, message));
        return;
      }
      let response: unknown;
      try {
        response = this.codec.decode(method.responseType, body);
      } catch (error) {
        const reason = error instanceof RpcError ? error.rawMessage : String(error);
        call.reject(new RpcError(Code.INTERNAL, `reply to ${method.fullName} from ${this.target}: ${reason}`, { cause: error }));
        return;
      }
      call.resolve(response);
      return;
    }
    call.reject(remoteError(header.status, decodeErrorBody(body), method, (header.flags & FrameFlags.REFUSED) !== 0));
  }

  expire(call: ClientCall): void {
    if (!call.pending) return;
    this.withdraw(call);
    this.finish(call);
    call.reject(this.deadlineError(call.method, call.timeoutMs ?? 0));
  }

  abort(call: ClientCall): void {
    if (!call.pending) return;
    this.withdraw(call);
    this.finish(call);
    call.reject(this.cancelledError(call.method, call.signal!));
  }

  /** Marks `call` settled and detaches its deadline and abort listener; false if it already was. */
  private finish(call: ClientCall): boolean {
    if (!call.pending) return false;
    call.pending = false;
    if (call.timerList !== undefined) timerQueue.remove(call);
    if (call.signal !== undefined) call.signal.removeEventListener("abort", call);
    return true;
  }

  /** Takes an unsettled call off the wire: CANCEL if written, out of the queue if not. */
  private withdraw(call: ClientCall): void {
    if (call.connection !== undefined) call.connection.cancel(call);
    else this.waiting.delete(call);
  }

  // --- connections ---

  private enqueue(call: ClientCall, body: Uint8Array): void {
    const authFailure = this.authFailure;
    if (authFailure !== undefined) {
      if (Date.now() < authFailure.until) {
        this.rejectUnauthenticated(call, authFailure.message);
        return;
      }
      this.authFailure = undefined;
    }
    this.waiting.set(call, body);
    this.connect();
  }

  /** Starts a connection pass unless an attempt is running or the backoff says wait. */
  private connect(): void {
    if (this.attempt !== undefined || this.handshaking !== undefined || this.closed !== undefined || this.retryTimer !== undefined) return;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      // Calls are waiting, so this timer may keep the process alive (for at most BACKOFF_CAP_MS).
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.waiting.size > 0) this.connect();
      }, wait);
      return;
    }
    this.attempt = this.pass();
  }

  /** Tries the endpoints in plan order until one connects; when none does, fails the waiting calls. */
  private async pass(): Promise<void> {
    const failures: AttemptFailure[] = [];
    for (const entry of this.pool.plan(Date.now())) {
      let connection: Connection;
      try {
        connection = await this.open(entry);
      } catch (error) {
        this.pool.failed(entry, Date.now());
        failures.push({ entry, error });
        if (this.closed !== undefined) break;
        continue;
      }
      this.attempt = undefined;
      this.connected(entry, connection);
      return;
    }
    this.attempt = undefined;
    if (this.closed === undefined) this.passFailed(failures);
  }

  /** transport.connect, with a synchronous throw turned into a rejection (so `await` always yields). */
  private open(entry: PoolEntry): Promise<Connection> {
    try {
      return entry.transport.connect(entry.endpoint, this.connectOptions);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private connected(entry: PoolEntry, connection: Connection): void {
    if (this.closed !== undefined) {
      connection.destroy();
      return;
    }
    this.failures = 0;
    this.retryAt = 0;
    this.pool.succeeded(entry);
    const client = new ClientConnection(this, connection, this.auth);
    this.endpoints.set(client, entry);
    if (this.auth !== undefined) {
      // Put in service by authenticated(), once the handshake succeeds.
      this.handshaking = client;
      return;
    }
    this.serve(client);
  }

  /** Makes `client` the connection new calls go to, and writes the waiting calls on it. */
  private serve(client: ClientConnection): void {
    const previous = this.current;
    this.current = client;
    if (previous !== undefined) this.retire(previous);
    const now = Date.now();
    for (const [call, body] of this.waiting) client.write(call, body, now);
    this.waiting.clear();
    this.scheduleMove();
  }

  private passFailed(failures: readonly AttemptFailure[]): void {
    this.failures++;
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    this.retryAt = Date.now() + step * (0.8 + 0.4 * Math.random());
    const reason = this.pool.unreachable(failures);
    const cause = failures.length === 1 ? failures[0]!.error : reason;
    const calls = [...this.waiting.keys()];
    this.waiting.clear();
    for (const call of calls) {
      if (this.finish(call)) {
        call.reject(new RpcError(reason.code, `call to ${call.method.fullName}: ${reason.rawMessage}`, { cause, unsent: true }));
      }
    }
  }

  // --- moving back to a preferred endpoint ---

  /** Arms moveTimer for when the first endpoint preferred over the current one leaves its backoff. */
  private scheduleMove(): void {
    if (this.moveTimer !== undefined) clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    const current = this.current;
    const entry = current === undefined ? undefined : this.endpoints.get(current);
    if (entry === undefined || this.closed !== undefined) return;
    const at = this.pool.betterRetryAt(entry);
    if (at === undefined) return;
    // Unref'd: an idle channel's wish to move never keeps the process alive.
    this.moveTimer = setTimeout(() => {
      this.moveTimer = undefined;
      this.move();
    }, Math.max(0, at - Date.now()));
    this.moveTimer.unref();
  }

  /** Tries the preferred endpoints that left their backoff, in the background; the current connection serves calls meanwhile. */
  private move(): void {
    const current = this.current;
    const entry = current === undefined ? undefined : this.endpoints.get(current);
    // A pass running, or no connection: whatever connects next schedules the next move.
    if (entry === undefined || this.attempt !== undefined || this.handshaking !== undefined || this.closed !== undefined) return;
    const candidates = this.pool.betterReady(entry, Date.now());
    if (candidates.length === 0) {
      this.scheduleMove();
      return;
    }
    this.attempt = this.moveTo(candidates);
  }

  private async moveTo(candidates: readonly PoolEntry[]): Promise<void> {
    for (const entry of candidates) {
      let connection: Connection;
      try {
        connection = await this.open(entry);
      } catch {
        this.pool.failed(entry, Date.now());
        if (this.closed !== undefined) break;
        continue;
      }
      this.attempt = undefined;
      this.connected(entry, connection);
      return;
    }
    this.attempt = undefined;
    if (this.closed !== undefined) return;
    // The old connection may have closed meanwhile, with calls now waiting for a pass.
    if (this.current === undefined) {
      if (this.waiting.size > 0) this.connect();
    } else {
      this.scheduleMove();
    }
  }

  /** Takes `client` out of service (a preferred endpoint replaced it): it closes once its calls in flight complete. */
  private retire(client: ClientConnection): void {
    if (client.closed || client.draining) return;
    client.draining = true;
    this.draining.add(client);
    if (client.inFlight === 0) client.connection.end();
  }

  goAway(connection: ClientConnection): void {
    if (this.current === connection) this.current = undefined;
    this.draining.add(connection);
  }

  /** How a lost connection is named in errors: the target, or the endpoint it reached when there are several. */
  private describeConnection(connection: ClientConnection): string {
    const entry = this.endpoints.get(connection);
    return entry === undefined || this.pool.entries.length === 1 ? this.target : entry.uri;
  }

  // --- authentication ---

  authenticated(connection: ClientConnection): void {
    if (this.handshaking !== connection) return;
    this.handshaking = undefined;
    this.authFailure = undefined;
    this.serve(connection);
  }

  authFailed(connection: ClientConnection, message: string, calls: ClientCall[]): void {
    if (this.handshaking === connection) this.handshaking = undefined;
    if (this.current === connection) this.current = undefined;
    this.draining.delete(connection);
    this.authFailure = { message, until: Date.now() + AUTH_RETRY_MS };
    const waiting = [...this.waiting.keys()];
    this.waiting.clear();
    for (const call of calls) this.rejectUnauthenticated(call, message);
    for (const call of waiting) this.rejectUnauthenticated(call, message);
  }

  /** The connection closed before its handshake ended: a failed connection attempt (backoff), not a verdict. */
  private handshakeLost(connection: ClientConnection, error: Error | undefined): void {
    this.handshaking = undefined;
    const entry = this.endpoints.get(connection)!;
    this.pool.failed(entry, Date.now());
    if (this.closed !== undefined) return;
    if (this.current !== undefined) {
      // It was a move to a preferred endpoint: the current connection keeps serving.
      this.scheduleMove();
      return;
    }
    const reason = error === undefined ? "the server closed the connection" : error.message;
    const failure = new RpcError(Code.UNAVAILABLE, `connection to ${entry.uri} closed during the authentication handshake (${reason})`, {
      cause: error,
    });
    this.passFailed([{ entry, error: failure }]);
  }

  private rejectUnauthenticated(call: ClientCall, message: string): void {
    if (this.finish(call)) call.reject(new RpcError(Code.UNAUTHENTICATED, `call to ${call.method.fullName}: ${message}`, { unsent: true }));
  }

  lost(connection: ClientConnection, calls: Iterable<ClientCall>, error: Error | undefined): void {
    if (this.handshaking === connection) {
      this.handshakeLost(connection, error);
      return;
    }
    if (this.current === connection) this.current = undefined;
    this.draining.delete(connection);
    const reason = error === undefined ? "the server closed the connection" : error.message;
    for (const call of calls) {
      if (this.finish(call)) {
        call.reject(
          new RpcError(Code.UNAVAILABLE, `call to ${call.method.fullName}: connection to ${this.describeConnection(connection)} lost (${reason})`, {
            cause: error,
          }),
        );
      }
    }
    // Calls queued meanwhile (a GOAWAY'd connection closing while a new one is being opened) keep waiting.
    if (this.waiting.size > 0) this.connect();
  }

  private async shutdown(): Promise<void> {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.moveTimer !== undefined) clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    const waiting = [...this.waiting.keys()];
    this.waiting.clear();
    for (const call of waiting) if (this.finish(call)) call.reject(this.closedError(call.method, true));
    this.syncCaller?.close();
    if (this.attempt !== undefined) await this.attempt;
    const connections = [...this.draining];
    if (this.current !== undefined) connections.push(this.current);
    if (this.handshaking !== undefined) connections.push(this.handshaking);
    this.current = undefined;
    this.handshaking = undefined;
    for (const client of connections) {
      for (const call of client.abandon()) if (this.finish(call)) call.reject(this.closedError(call.method));
      client.connection.destroy();
    }
    await Promise.all(connections.map((client) => client.done));
  }

  // --- errors ---

  private closedError(method: MethodDefinition, unsent = false): RpcError {
    return new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: the channel to ${this.target} is closed`, { unsent });
  }

  private deadlineError(method: MethodDefinition, timeoutMs: number): RpcError {
    return new RpcError(Code.DEADLINE_EXCEEDED, `call to ${method.fullName} on ${this.target} did not complete within ${timeoutMs} ms`);
  }

  private cancelledError(method: MethodDefinition, signal: AbortSignal): RpcError {
    return new RpcError(Code.CANCELLED, `call to ${method.fullName} on ${this.target} was cancelled by the caller`, {
      cause: signal.reason,
    });
  }
}

/** An error reply: the server's code and message; UNIMPLEMENTED also names the method the client asked for. */
function toMap(metadata: Metadata | Record<string, string> | undefined): Map<string, string> {
  if (metadata === undefined) return new Map();
  return metadata instanceof Map ? new Map(metadata) : new Map(Object.entries(metadata));
}

/**
 * The blocking-call engine behind unarySync (runtime/client/sync-caller.ts, a worker thread that
 * runs a channel of its own). Interceptors are functions, which cannot cross into the worker:
 * blocking calls are not intercepted.
 */
function createSyncCaller(target: string, options: ChannelOptions, auth: ClientAuth | undefined): SyncCaller {
  const { interceptors: _interceptors, ...forwarded } = options;
  // The derived key, not the secret: the worker need not run scrypt again.
  if (auth !== undefined) forwarded.auth = workerAuthOptions(auth);
  return new SyncCaller(target, forwarded);
}
