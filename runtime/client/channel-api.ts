import type { MethodDefinition } from "../definition.js";
import type { CallOptions } from "./call-options.js";

/**
 * A channel is a client's connection (or connections) to one target. Generated clients call
 * only these two methods. Create one with createChannel(); share it between clients.
 */
export interface Channel {
  /**
   * The target as given: "unix:/run/flight.sock", "tcp://127.0.0.1:7000", ...; a target of several
   * endpoints as one string, an array's items joined with ",".
   */
  readonly target: string;
  /**
   * The endpoint (normalised URI) of the connection new calls are written on; undefined while
   * none is open (before the first call, while reconnecting, after close).
   */
  readonly endpoint: string | undefined;
  /** Sends one request; resolves with the response or rejects with an RpcError. */
  unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res>;
  /**
   * Sends one request and blocks the calling thread until the response arrives or the timeout
   * passes (RpcError DEADLINE_EXCEEDED). Uses its own connection, opened on first use.
   */
  unarySync<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Res;
  /** Fails calls still in flight with UNAVAILABLE and closes every connection. Idempotent. */
  close(): Promise<void>;
}
