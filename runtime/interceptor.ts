import type { CallContext } from "./call-context.js";
import type { CallOptions } from "./client/call-options.js";
import type { MethodDefinition } from "./definition.js";
import type { Metadata } from "./metadata.js";

/**
 * Interceptors wrap unary calls, on the client (around sending) and on the server (around the
 * handler), connect-es style: an interceptor receives the next function in the chain and returns
 * a function of the same shape.
 *
 *   const logging: Interceptor = (next) => async (call) => {
 *     const started = Date.now();
 *     try { return await next(call); } finally { console.log(call.method.fullName, Date.now() - started, "ms"); }
 *   };
 *
 * In an `interceptors` array the first is the outermost (it runs first and sees the result
 * last). With none configured no interceptor code runs at all.
 */
export type UnaryCall = ClientUnaryCall | ServerUnaryCall;

export interface ClientUnaryCall {
  readonly side: "client";
  readonly method: MethodDefinition;
  readonly request: unknown;
  /** The metadata to be sent: interceptors may add or change entries. */
  readonly metadata: Map<string, string>;
  /** The options the call was made with (timeoutMs, signal); metadata is in `metadata`. */
  readonly options: CallOptions;
}

export interface ServerUnaryCall {
  readonly side: "server";
  readonly method: MethodDefinition;
  /** The decoded request. */
  readonly request: unknown;
  /** The metadata the client sent (also `context.metadata`). */
  readonly metadata: Metadata;
  /** What the handler will see. */
  readonly context: CallContext;
}

/** Performs the call: resolves with the response message, rejects with an error. */
export type UnaryFn = (call: UnaryCall) => Promise<unknown>;

export type Interceptor = (next: UnaryFn) => UnaryFn;

/** Composes `interceptors` around `innermost`, the first one outermost. */
export function applyInterceptors(interceptors: readonly Interceptor[], innermost: UnaryFn): UnaryFn {
  let next = innermost;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    if (typeof interceptor !== "function") {
      throw new TypeError(`interceptors[${i}] is a ${typeof interceptor}, expected a function (next) => (call) => Promise`);
    }
    next = interceptor(next);
  }
  return next;
}
