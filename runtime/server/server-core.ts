import type { ServerUnaryCall } from "../interceptor.js";
import type { Router } from "./router.js";
import type { ServerConnection } from "./server-connection.js";

/** What a ServerConnection needs from the server that owns it. */
export interface ServerCore {
  readonly router: Router;
  readonly maxConcurrentCalls: number;
  /** The handler wrapped in the configured interceptors; undefined when there are none. */
  readonly intercepted: ((call: ServerUnaryCall) => Promise<unknown>) | undefined;
  /** Calls running on all connections (their handlers have not finished). */
  active: number;
  /** A call's handler finished (or failed): one fewer active call. */
  callDone(): void;
  connectionClosed(connection: ServerConnection): void;
}
