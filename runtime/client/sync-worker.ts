/**
 * The blocking-call worker: a worker thread that owns an ordinary async channel and serves the
 * requests a SyncCaller posts, so reconnects, deadlines, metadata and authentication all come from
 * the one channel implementation. Started by sync-caller.ts with SyncWorkerData as workerData.
 *
 * Promise to the caller: every message it posts is followed by a SIGNAL bump and notify; it posts
 * exactly one reply per request (in completion order, not request order); and whenever its thread
 * ends while JavaScript still runs in it (process.exit, an uncaught exception or unhandled
 * rejection, the event loop running dry), it posts a FatalReply and sets DEAD first, so a caller
 * blocked without a timeout wakes up. Only worker.terminate() and a fatal V8 error end it without
 * that notice (see SyncCaller for how each is covered).
 */
import { workerData } from "node:worker_threads";
import { Code } from "../code.js";
import type { MethodDefinition } from "../definition.js";
import { RpcError } from "../rpc-error.js";
import type { CallOptions } from "./call-options.js";
import type { Channel } from "./channel-api.js";
import {
  FATAL_SEQ,
  SIGNAL,
  STATE,
  WorkerState,
  fromWireMethod,
  ownsBuffer,
  passThroughCodec,
  type SyncReply,
  type SyncRequest,
  type SyncWorkerData,
} from "./sync-protocol.js";

const { target, options, codecId, codecName, port, shared } = workerData as SyncWorkerData;

let dead = false;
let lastUncaught: unknown;

function post(reply: SyncReply): void {
  if (reply.ok && ownsBuffer(reply.body)) port.postMessage(reply, [reply.body.buffer as ArrayBuffer]);
  else port.postMessage(reply);
  Atomics.add(shared, SIGNAL, 1);
  Atomics.notify(shared, SIGNAL);
}

function die(code: Code, message: string): void {
  if (dead) return;
  dead = true;
  post({ seq: FATAL_SEQ, ok: false, code, message });
  Atomics.store(shared, STATE, WorkerState.DEAD);
  Atomics.add(shared, SIGNAL, 1);
  Atomics.notify(shared, SIGNAL);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.on("uncaughtExceptionMonitor", (error) => {
  lastUncaught = error;
});
process.on("exit", (exitCode) => {
  const reason = lastUncaught === undefined ? `exit code ${exitCode}` : `uncaught error: ${describe(lastUncaught)}`;
  die(Code.UNAVAILABLE, `blocking-call worker for ${target} exited (${reason})`);
});

let channel: Channel;
try {
  // Loaded here rather than imported statically, so a failure to load it is reported to the
  // caller with its reason instead of ending the thread before any handler exists.
  const { createChannel } = await import("./create-channel.js");
  channel = createChannel(target, { ...options, codec: passThroughCodec(codecId, codecName) });
} catch (error) {
  die(Code.UNAVAILABLE, `blocking-call worker for ${target} could not create its channel: ${describe(error)}`);
  process.exit(1);
}

const methods = new Map<string, MethodDefinition<Uint8Array, Uint8Array>>();

function serve(request: SyncRequest): void {
  let method = methods.get(request.method.fullName);
  if (method === undefined || method.id !== request.method.id) {
    method = fromWireMethod(request.method);
    methods.set(method.fullName, method);
  }
  const callOptions: CallOptions = {};
  if (request.timeoutMs !== undefined) callOptions.timeoutMs = request.timeoutMs;
  if (request.metadata !== undefined) callOptions.metadata = request.metadata;
  const seq = request.seq;
  let pending: Promise<Uint8Array>;
  try {
    pending = channel.unary(method, request.body, callOptions);
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.then(
    (body) => post({ seq, ok: true, body }),
    (error: unknown) => {
      const rpcError = RpcError.from(error);
      post({ seq, ok: false, code: rpcError.code, message: rpcError.rawMessage });
    },
  );
}

port.on("message", serve);
Atomics.store(shared, STATE, WorkerState.READY);
Atomics.add(shared, SIGNAL, 1);
Atomics.notify(shared, SIGNAL);
