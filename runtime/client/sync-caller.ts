import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from "node:worker_threads";
import { Code } from "../code.js";
import type { Codec } from "../codec/codec.js";
import { jsonCodec } from "../codec/json.js";
import { protobufCodec } from "../codec/protobuf.js";
import { resolveCodec } from "../codec/registry.js";
import type { MethodDefinition } from "../definition.js";
import { checkTimeout } from "../deadline.js";
import { RpcError } from "../rpc-error.js";
import { encodeMetadata } from "../wire/metadata-block.js";
import type { CallOptions } from "./call-options.js";
import type { ChannelOptions } from "./channel-options.js";
import {
  FATAL_SEQ,
  SHARED_INTS,
  SIGNAL,
  STATE,
  WorkerState,
  ownsBuffer,
  toWireMethod,
  type SyncReply,
  type SyncRequest,
  type SyncWorkerData,
  type WireMethod,
} from "./sync-protocol.js";
import { createNativeSyncConnection, type NativeSyncConnection } from "./sync-native-connection.js";
import { chooseSyncImpl, type SyncImpl } from "./sync-native-target.js";
import { workerBootstrap } from "./sync-worker-entry.js";

/**
 * Blocking unary calls for Channel.unarySync, through one of two engines (sync-native-target.ts
 * says which is chosen when):
 *
 * - native: the calling thread owns a socket of its own and does blocking send/receive on it
 *   through the sync_socket addon (sync-native-connection.ts, which states its contract). No
 *   thread hand-off; for a single unix:, tcp://, udp:// or netlink:// target when the addon is built.
 * - worker (everything else, and when the addon is missing): the calling thread encodes the
 *   request, posts it to a worker thread that owns an ordinary async channel to the same target
 *   (sync-worker.ts), sleeps in Atomics.wait until the worker signals a posted reply, takes it with
 *   receiveMessageOnPort and decodes it. The rest of this comment describes this engine.
 *
 * Both encode and decode on the calling thread with the channel's codec, and word errors as the
 * async channel does. [not thread-safe: one SyncCaller serves the thread that created it.]
 *
 * Timeouts: a call's time (CallOptions.timeoutMs, else the channel's timeoutMs) runs from the moment
 * call() is entered and covers starting the worker on first use; the rest is sent as the call's
 * deadline, so the server sees it and the worker's channel frees the slot. When it passes, call()
 * throws DEADLINE_EXCEEDED, never earlier; a reply arriving later is discarded by the next call.
 *
 * The worker is started on the first call and unref()'d: it never keeps the process alive, and
 * close() is not needed for the process to exit. A worker that does not become ready within
 * START_LIMIT_MS of its creation is terminated (UNAVAILABLE); the next call starts a new one.
 *
 * Guarantee without a timeout: a call blocks until its reply comes, or until the worker thread
 * ends. The worker announces its end from its own thread (sync-worker.ts: a FatalReply, state DEAD
 * and a notify from its 'exit' handler, which runs on process.exit, uncaught errors and unhandled
 * rejections; sync-worker-entry.ts does the same when the module fails to load), because this
 * thread's event loop, and so the Worker 'exit' event, does not run while it is blocked. The only
 * other ends are terminate(), which only this class calls and never while blocked, and fatal V8
 * errors, which end the whole process. A call then throws UNAVAILABLE with the worker's reason,
 * and the next call starts a fresh worker. A server that never answers a call without a deadline
 * blocks it as long as the connection lives, as an async call would wait.
 */
export class SyncCaller {
  /** How long a worker may take to load its modules and create its channel. */
  static readonly START_LIMIT_MS = 10_000;

  /** The engine serving this caller's calls, fixed at construction. */
  readonly impl: SyncImpl;
  private readonly target: string;
  private readonly codec: Codec;
  /** The native engine, when impl is "native" (the worker fields are then unused). */
  private readonly native: NativeSyncConnection | undefined;
  /** protobuf and json return freshly allocated bodies, which may be transferred instead of copied. */
  private readonly codecOwnsOutput: boolean;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly workerData: Omit<SyncWorkerData, "port" | "shared">;
  private readonly wireMethods = new WeakMap<MethodDefinition, WireMethod>();
  private slot: WorkerSlot = { t: "idle" };
  private seq = 0;

  /**
   * `impl` picks the engine; by default chooseSyncImpl decides (native when it can serve the
   * target and options, else the worker; MSF_SYNC_IMPL overrides). Throws RpcError
   * INVALID_ARGUMENT for a bad option, FAILED_PRECONDITION when "native" is asked for and impossible.
   */
  constructor(target: string, options: ChannelOptions, impl: SyncImpl = chooseSyncImpl(target, options)) {
    const { codec: codecOption, ...rest } = options;
    this.target = target;
    this.impl = impl;
    this.codec = resolveCodec(codecOption);
    this.codecOwnsOutput = this.codec === protobufCodec || this.codec === jsonCodec;
    this.defaultTimeoutMs = checkTimeout(options.timeoutMs, `channel option timeoutMs for ${target}`);
    this.workerData = { target, options: rest, codecId: this.codec.id, codecName: this.codec.name };
    if (impl === "native") {
      this.native = createNativeSyncConnection(target, options, this.codec);
      return;
    }
    for (const [key, value] of Object.entries(rest)) {
      if (typeof value === "function") {
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `channel option ${key} for ${target} is a function, which blocking calls cannot pass to their worker thread`,
        );
      }
    }
  }

  /**
   * Calls `method` and blocks until its response; throws RpcError: the server's code, UNAVAILABLE
   * when the target cannot be reached or the caller is closed, DEADLINE_EXCEEDED when the time runs
   * out. `options.signal` is ignored (nothing can abort a thread that is blocked).
   */
  call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Res {
    const started = performance.now();
    let timeoutMs = this.defaultTimeoutMs;
    let encoded: Uint8Array;
    let metadataBlock: Uint8Array | undefined;
    try {
      if (options?.timeoutMs !== undefined) timeoutMs = checkTimeout(options.timeoutMs, `timeoutMs of ${method.fullName}`);
      encoded = this.codec.encode(method.requestType, request);
      if (this.native !== undefined && options?.metadata !== undefined) metadataBlock = encodeMetadata(options.metadata);
    } catch (error) {
      const rpcError = RpcError.from(error, Code.INVALID_ARGUMENT);
      throw new RpcError(rpcError.code, `call to ${method.fullName}: ${rpcError.rawMessage}`, { cause: error });
    }
    if (timeoutMs === 0) throw this.deadlineExceeded(method, 0);
    const deadline = timeoutMs === undefined ? Infinity : started + timeoutMs;
    let body: Uint8Array;
    if (this.native === undefined) {
      body = this.callWorker(method, encoded, options, deadline, timeoutMs);
    } else {
      if (this.slot.t === "closed") throw this.closedError(method);
      body = this.native.call(method, encoded, metadataBlock, deadline, timeoutMs);
    }
    try {
      return this.codec.decode(method.responseType, body);
    } catch (error) {
      const reason = error instanceof RpcError ? error.rawMessage : String(error);
      throw new RpcError(Code.INTERNAL, `reply to ${method.fullName} from ${this.target}: ${reason}`, { cause: error });
    }
  }

  /** The worker engine's part of call(): the encoded response body, or a throw. */
  private callWorker(
    method: MethodDefinition,
    encoded: Uint8Array,
    options: CallOptions | undefined,
    deadline: number,
    timeoutMs: number | undefined,
  ): Uint8Array {
    const worker = this.readyWorker(method, deadline, timeoutMs);
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw this.deadlineExceeded(method, timeoutMs);
    const body = this.codecOwnsOutput && ownsBuffer(encoded) ? encoded : new Uint8Array(encoded);
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    const message: SyncRequest = {
      seq: this.seq,
      method: this.wireMethod(method),
      body,
      timeoutMs: deadline === Infinity ? undefined : Math.ceil(remaining),
      metadata: options?.metadata,
    };
    try {
      worker.port.postMessage(message, [body.buffer as ArrayBuffer]);
    } catch (error) {
      // Only the metadata can fail to clone (the rest is numbers, strings and bytes).
      const reason = error instanceof Error ? error.message : String(error);
      throw new RpcError(Code.INVALID_ARGUMENT, `call to ${method.fullName}: metadata cannot be sent: ${reason}`, { cause: error });
    }
    const reply = this.awaitReply(worker, method, this.seq, deadline, timeoutMs);
    if (!reply.ok) throw new RpcError(reply.code, reply.message);
    return reply.body;
  }

  /** Closes the connection (the worker's, or the native socket); later calls throw UNAVAILABLE. Idempotent. */
  close(): void {
    if (this.slot.t === "running") stopWorker(this.slot);
    this.native?.close();
    this.slot = { t: "closed" };
  }

  private wireMethod(method: MethodDefinition): WireMethod {
    let wire = this.wireMethods.get(method);
    if (wire === undefined) {
      wire = toWireMethod(method);
      this.wireMethods.set(method, wire);
    }
    return wire;
  }

  /** The running worker once it is ready, starting it if there is none. */
  private readyWorker(method: MethodDefinition, deadline: number, timeoutMs: number | undefined): RunningWorker {
    if (this.slot.t === "closed") throw this.closedError(method);
    if (this.slot.t === "idle") this.slot = this.startWorker();
    const worker = this.slot;
    const { shared } = worker;
    for (;;) {
      const signal = Atomics.load(shared, SIGNAL);
      const state = Atomics.load(shared, STATE);
      if (state === WorkerState.READY) return worker;
      if (state === WorkerState.DEAD) throw this.workerDied(worker, method, undefined);
      const now = performance.now();
      if (now >= worker.startDeadline) {
        this.discard(worker);
        throw new RpcError(
          Code.UNAVAILABLE,
          `call to ${method.fullName}: the blocking-call worker for ${this.target} did not start within ${SyncCaller.START_LIMIT_MS} ms`,
        );
      }
      if (now >= deadline) throw this.deadlineExceeded(method, timeoutMs, " (its blocking-call worker was still starting)");
      Atomics.wait(shared, SIGNAL, signal, Math.min(deadline, worker.startDeadline) - now);
    }
  }

  private startWorker(): RunningWorker {
    const { port1, port2 } = new MessageChannel();
    const shared = new Int32Array(new SharedArrayBuffer(SHARED_INTS * Int32Array.BYTES_PER_ELEMENT));
    const data: SyncWorkerData = { ...this.workerData, port: port2, shared };
    let worker: Worker;
    try {
      bootstrap ??= workerBootstrap(import.meta.url);
      worker = new Worker(bootstrap, { eval: true, workerData: data, transferList: [port2] });
    } catch (error) {
      port1.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new RpcError(
        error instanceof Error && error.name === "DataCloneError" ? Code.INVALID_ARGUMENT : Code.UNAVAILABLE,
        `cannot start the blocking-call worker for ${this.target}: ${reason}`,
        { cause: error },
      );
    }
    // The worker reports its own failures through the port; this listener only keeps an uncaught
    // error in it from becoming an unhandled 'error' event that would crash this process.
    worker.on("error", () => {});
    worker.unref();
    port1.unref();
    return { t: "running", worker, port: port1, shared, startDeadline: performance.now() + SyncCaller.START_LIMIT_MS };
  }

  /**
   * Blocks until the reply to `seq` is in the port. Replies to earlier calls that timed out here
   * are discarded as they are found.
   */
  private awaitReply(
    worker: RunningWorker,
    method: MethodDefinition,
    seq: number,
    deadline: number,
    timeoutMs: number | undefined,
  ): SyncReply {
    const { shared, port } = worker;
    let fatal: SyncReply | undefined;
    for (;;) {
      const signal = Atomics.load(shared, SIGNAL);
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        const reply = received.message as SyncReply;
        if (reply.seq === seq) return reply;
        if (reply.seq === FATAL_SEQ) fatal = reply;
      }
      if (Atomics.load(shared, STATE) === WorkerState.DEAD) throw this.workerDied(worker, method, fatal);
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.deadlineExceeded(method, timeoutMs);
      Atomics.wait(shared, SIGNAL, signal, remaining);
    }
  }

  /** The error for a call that found the worker dead; the worker is dropped so the next call starts anew. */
  private workerDied(worker: RunningWorker, method: MethodDefinition, fatal: SyncReply | undefined): RpcError {
    for (let received = receiveMessageOnPort(worker.port); received !== undefined; received = receiveMessageOnPort(worker.port)) {
      const reply = received.message as SyncReply;
      if (reply.seq === FATAL_SEQ) fatal = reply;
    }
    this.discard(worker);
    const reason = fatal !== undefined && !fatal.ok ? fatal.message : `blocking-call worker for ${this.target} ended`;
    return new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: ${reason}`);
  }

  private discard(worker: RunningWorker): void {
    stopWorker(worker);
    if (this.slot === worker) this.slot = { t: "idle" };
  }

  private closedError(method: MethodDefinition): RpcError {
    return new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: the channel to ${this.target} is closed`);
  }

  private deadlineExceeded(method: MethodDefinition, timeoutMs: number | undefined, detail = ""): RpcError {
    return new RpcError(
      Code.DEADLINE_EXCEEDED,
      `call to ${method.fullName} on ${this.target} did not complete within ${timeoutMs} ms${detail}`,
    );
  }
}

/** The eval'd start script of every worker (the same for all: it depends on this file's location only). */
let bootstrap: string | undefined;

type WorkerSlot = { readonly t: "idle" } | RunningWorker | { readonly t: "closed" };

interface RunningWorker {
  readonly t: "running";
  readonly worker: Worker;
  /** The caller's end of the MessageChannel: requests out, replies in (never listened on). */
  readonly port: MessagePort;
  readonly shared: Int32Array;
  /** performance.now() after which a worker still starting is given up. */
  readonly startDeadline: number;
}

function stopWorker(running: RunningWorker): void {
  running.port.close();
  running.worker.terminate().catch(() => {});
}
