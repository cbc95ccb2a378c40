import type { AuthFailureReason } from "../auth/auth-failure.js";
import { createServerAuth, ServerAuth, type ServerAuthOptions } from "../auth/server-auth.js";
import { Code } from "../code.js";
import type { Interceptor } from "../interceptor.js";
import { RpcError } from "../rpc-error.js";
import { resolveAddress, type ResolvedAddress } from "../transport/builtin.js";
import { DEFAULT_MAX_BODY_BYTES } from "../wire/header.js";

export interface ServerOptions {
  /** Addresses to listen on: "unix:/run/x.sock", "unix:@name", "tcp://127.0.0.1:7000", "tcp://[::1]:0". */
  listen: string[];
  /** Largest request body accepted (bytes); a larger frame closes its connection. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Calls run at once, all connections together; beyond it a call is answered RESOURCE_EXHAUSTED. Default: no limit. */
  maxConcurrentCalls?: number;
  /** Wrap every handler, first = outermost (see interceptor.ts). */
  interceptors?: Interceptor[];
  /** File mode of unix socket files (not abstract names). Default 0o600: only the owner may connect. */
  unixSocketMode?: number;
  /**
   * Require CHAP authentication (docs/auth.md): a connection is served only after the client
   * proved it knows one of these credentials; handlers see its name as `context.peer.identity`.
   * Keys are derived here, once, when the server is created (scrypt, ~70 ms per secret: give
   * `{ key }` entries to skip it), never per connection. A ServerAuth (createServerAuth) may be
   * given instead, e.g. to share one failure throttle between servers. Default: none, and then
   * no handshake at all.
   */
  auth?: ServerAuthOptions | ServerAuth;
  /**
   * Called once per failed authentication (handshake or re-challenge) with the peer, the name
   * it claimed and the reason; never a secret, key or MAC. Nothing is printed by default. An
   * exception thrown here is ignored.
   */
  onAuthFailure?: (info: AuthFailureInfo) => void;
}

/** What the server reports about one failed authentication. */
export interface AuthFailureInfo {
  /** The peer's address: "tcp://10.0.0.9:5555", or "unix:/path" for a unix socket peer. */
  readonly peer: string;
  /**
   * The name the client claimed, when it got that far. Chosen by the peer (checked: 1..255 UTF-8
   * bytes, no control characters): not proof of anything.
   */
  readonly name: string | undefined;
  readonly reason: AuthFailureReason;
  /**
   * One log line: "CHAP authentication failed: peer tcp://10.0.0.9:5555 as \"alice\": WRONG_SECRET:
   * answered with a MAC that does not verify under the name's key". Peer-supplied text in it is
   * quoted and stripped of control characters.
   */
  readonly message: string;
}

export interface NormalizedServerOptions {
  addresses: ResolvedAddress[];
  maxBodyBytes: number;
  maxConcurrentCalls: number;
  interceptors: readonly Interceptor[];
  unixSocketMode: number;
  auth: ServerAuth | undefined;
  onAuthFailure: ((info: AuthFailureInfo) => void) | undefined;
}

/** Validates every option up front: a mistake is an RpcError INVALID_ARGUMENT at createServer, not at start. */
export function normalizeServerOptions(options: ServerOptions): NormalizedServerOptions {
  if (typeof options !== "object" || options === null) {
    throw invalid(`createServer: expected an options object with a listen array, got ${String(options)}`);
  }
  const { listen } = options;
  if (!Array.isArray(listen) || listen.length === 0) {
    throw invalid(`createServer: option listen must be a non-empty array of addresses such as "unix:/run/app.sock" or "tcp://127.0.0.1:7000"`);
  }
  return {
    addresses: listen.map((uri) => resolveAddress(uri)),
    maxBodyBytes: checkInteger(options.maxBodyBytes, "maxBodyBytes", 1, 0xffffffff, DEFAULT_MAX_BODY_BYTES),
    maxConcurrentCalls:
      options.maxConcurrentCalls === Infinity
        ? Infinity
        : checkInteger(options.maxConcurrentCalls, "maxConcurrentCalls", 1, Number.MAX_SAFE_INTEGER, Infinity),
    interceptors: checkInterceptors(options.interceptors),
    unixSocketMode: checkInteger(options.unixSocketMode, "unixSocketMode", 0, 0o777, 0o600),
    auth: resolveAuth(options.auth),
    onAuthFailure: checkFunction(options.onAuthFailure, "onAuthFailure", "(info) => void"),
  };
}

/** Derives every key now (createServer time), so no connection ever waits for scrypt. */
function resolveAuth(auth: ServerAuthOptions | ServerAuth | undefined): ServerAuth | undefined {
  if (auth === undefined) return undefined;
  if (auth instanceof ServerAuth) return auth;
  if (typeof auth !== "object" || auth === null) {
    throw invalid(`createServer: option auth must be an object { credentials: { name: secret } } or { secretsFile }, got ${auth === null ? "null" : typeof auth}`);
  }
  try {
    return createServerAuth(auth);
  } catch (error) {
    // The auth code's messages never quote a secret or a file's content.
    throw new RpcError(Code.INVALID_ARGUMENT, `createServer: option auth: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function checkFunction<F>(value: F | undefined, name: string, shape: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalid(`option ${name} must be a function ${shape}, got ${typeof value}`);
  return value;
}

export function checkInteger(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function checkInterceptors(value: unknown): readonly Interceptor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`option interceptors must be an array of functions, got ${typeof value}`);
  value.forEach((item, index) => {
    if (typeof item !== "function") throw invalid(`option interceptors[${index}] must be a function (next) => (call) => Promise, got ${typeof item}`);
  });
  return value as Interceptor[];
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
