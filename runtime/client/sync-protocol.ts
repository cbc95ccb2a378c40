import type { MessagePort } from "node:worker_threads";
import { Code } from "../code.js";
import type { Codec } from "../codec/codec.js";
import type { MessageType, MethodDefinition } from "../definition.js";
import type { Metadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";

/**
 * What the calling thread (sync-caller.ts) and the blocking-call worker (sync-worker.ts) exchange.
 *
 * Requests and replies travel over a MessagePort; the caller never listens on it (its event loop
 * is blocked), it takes replies with receiveMessageOnPort(). To know when to look, it sleeps in
 * Atomics.wait on the SIGNAL cell of a shared Int32Array, which the worker bumps and notifies
 * after every message it posts and when it becomes ready or dies. The caller reads SIGNAL before
 * draining the port and waits only while SIGNAL still holds that value, so a reply posted between
 * the drain and the wait is never missed (the wait returns "not-equal" at once).
 */

/** Index of the event counter in the shared Int32Array: bumped after every post, readiness, death. */
export const SIGNAL = 0;
/** Index of the worker's WorkerState in the shared Int32Array. */
export const STATE = 1;
/** Length of the shared Int32Array. */
export const SHARED_INTS = 2;

export enum WorkerState {
  /** Loading its modules and creating its channel; requests posted now wait in the port. */
  STARTING = 0,
  /** Its channel exists; requests are served. */
  READY = 1,
  /** It failed to start or is exiting; a FatalReply (seq 0) with the reason was posted first. */
  DEAD = 2,
}

/** The part of a MethodDefinition that crosses threads (message types stay with the caller). */
export interface WireMethod {
  readonly id: number;
  readonly fullName: string;
  readonly name: string;
  readonly localName: string;
  readonly idempotent: boolean;
}

/** Caller → worker: one call. `body` is already encoded with the channel's codec. */
export interface SyncRequest {
  /** 1..2^31-1, increasing per caller (wrapping); never 0, which FatalReply uses. */
  readonly seq: number;
  readonly method: WireMethod;
  readonly body: Uint8Array;
  /** Time left for the call in ms when posted; undefined for no deadline. */
  readonly timeoutMs: number | undefined;
  readonly metadata: Metadata | Record<string, string> | undefined;
}

/** Worker → caller: the outcome of the request with the same seq. `body` is encoded, not decoded. */
export type SyncReply =
  | { readonly seq: number; readonly ok: true; readonly body: Uint8Array }
  | { readonly seq: number; readonly ok: false; readonly code: Code; readonly message: string };

/** Seq of the reply a dying worker posts (before it sets DEAD) to say why. */
export const FATAL_SEQ = 0;

/** What the worker is started with (its workerData). Every field must survive structured clone. */
export interface SyncWorkerData {
  readonly target: string;
  /** The channel options minus the codec, which is sent as codecId/codecName. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly codecId: number;
  readonly codecName: string;
  /** The worker's end of the caller's MessageChannel (transferred). */
  readonly port: MessagePort;
  /** SHARED_INTS cells over a SharedArrayBuffer (shared, not copied). */
  readonly shared: Int32Array;
}

export function toWireMethod(method: MethodDefinition): WireMethod {
  return {
    id: method.id,
    fullName: method.fullName,
    name: method.name,
    localName: method.localName,
    idempotent: method.idempotent,
  };
}

/**
 * The worker's stand-in for a method: the same identity, and message types that are never used,
 * because the worker's channel runs with a pass-through codec that never calls them.
 */
export function fromWireMethod(method: WireMethod): MethodDefinition<Uint8Array, Uint8Array> {
  const opaque = opaqueType(method.fullName);
  return { ...method, requestType: opaque, responseType: opaque };
}

function opaqueType(fullName: string): MessageType<Uint8Array> {
  const unavailable = (): never => {
    throw new RpcError(
      Code.INTERNAL,
      `message types of ${fullName} are not available on the blocking-call worker thread: its channel must use the pass-through codec`,
    );
  };
  return { encode: unavailable, decode: unavailable, fromJSON: unavailable, toJSON: unavailable, fromPartial: unavailable };
}

/**
 * A codec that carries bodies already encoded by the caller's real codec: it answers to the real
 * codec's id (which goes into every frame header, so the server decodes with the right codec) and
 * passes bytes through. Decoded bodies are copied out of the received chunk, so the copy owns its
 * buffer and can be transferred to the caller without cloning the whole chunk.
 */
export function passThroughCodec(id: number, name: string): Codec {
  return {
    id,
    name,
    encode<T>(_type: MessageType<T>, message: T): Uint8Array {
      if (!(message instanceof Uint8Array)) {
        throw new RpcError(Code.INTERNAL, `pass-through codec "${name}" expected an encoded body (Uint8Array), got ${typeof message}`);
      }
      return message;
    },
    decode<T>(_type: MessageType<T>, bytes: Uint8Array): T {
      return new Uint8Array(bytes) as T;
    },
  };
}

/** True when `bytes` is the whole of a plain ArrayBuffer, so transferring it moves nothing else. */
export function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
}
