import type { ServerAuth } from "../auth/server-auth.js";
import type { ServerUnaryCall } from "../interceptor.js";
import type { Router } from "./router.js";
import type { ServerConnection } from "./server-connection.js";
import type { AuthFailureInfo } from "./server-options.js";

/** What a ServerConnection needs from the server that owns it. */
export interface ServerCore {
  readonly router: Router;
  readonly maxConcurrentCalls: number;
  /** The handler wrapped in the configured interceptors; undefined when there are none. */
  readonly intercepted: ((call: ServerUnaryCall) => Promise<unknown>) | undefined;
  /** Authentication every connection must pass before anything else; undefined: none (no handshake). */
  readonly auth: ServerAuth | undefined;
  /** Calls running on all connections (their handlers have not finished). */
  active: number;
  /** A call's handler finished (or failed): one fewer active call. */
  callDone(): void;
  connectionClosed(connection: ServerConnection): void;
  /** A connection failed authentication (it is closing): report it to the configured hook. */
  authFailed(info: AuthFailureInfo): void;
}
