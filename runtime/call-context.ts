import type { Metadata } from "./metadata.js";
import type { MethodDefinition } from "./definition.js";

/** Who is calling: the transport-level address, and once authenticated (CHAP), the peer's name. */
export interface PeerInfo {
  /** "unix:/run/msf.sock", "tcp://127.0.0.1:50412", ... */
  readonly address: string;
  /** The authenticated name, or undefined when the server requires no authentication. */
  readonly identity: string | undefined;
}

/** What a handler knows about the call it serves. */
export interface CallContext {
  readonly method: MethodDefinition;
  /** Absolute deadline in ms since the epoch (Date.now() clock); Infinity when the caller set none. */
  readonly deadline: number;
  /** Aborted when the deadline passes, the caller cancels, the connection closes or the server stops. */
  readonly signal: AbortSignal;
  readonly peer: PeerInfo;
  readonly metadata: Metadata;
}
