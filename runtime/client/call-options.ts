import type { Metadata } from "../metadata.js";

/** Per-call options of generated client methods, async and blocking alike. */
export interface CallOptions {
  /** Time allowed for the call, from now, in ms. Overrides the channel's default. */
  timeoutMs?: number;
  /** Aborting it cancels the call (async calls only): the promise rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Sent with the request; the handler sees it as `context.metadata`. */
  metadata?: Metadata | Record<string, string>;
}
