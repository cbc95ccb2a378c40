import { AuthKey } from "../auth/auth-key.js";
import { ClientAuth, type ClientAuthOptions } from "../auth/client-auth.js";
import { Code } from "../code.js";
import type { Codec, CodecName } from "../codec/codec.js";
import { resolveCodec } from "../codec/registry.js";
import { checkTimeout } from "../deadline.js";
import type { Interceptor } from "../interceptor.js";
import { RpcError } from "../rpc-error.js";
import { checkInteger, checkInterceptors } from "../server/server-options.js";
import { DEFAULT_MAX_BODY_BYTES } from "../wire/header.js";
import type { EndpointSelectionOptions } from "./endpoint-order.js";

/** Selection options (`selection`, `transportPreference`) order a target that lists several endpoints: endpoint-order.ts. */
export interface ChannelOptions extends EndpointSelectionOptions {
  /** Default time allowed per call, in ms (CallOptions.timeoutMs overrides it). Default: none. */
  timeoutMs?: number;
  /** How messages are encoded: "protobuf" (default), "json", "msgpack", or a Codec object. */
  codec?: CodecName | Codec;
  /** Largest response body accepted (bytes); a larger frame closes the connection. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to establish a connection, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Wrap every async call, first = outermost (see interceptor.ts). Blocking calls are not intercepted. */
  interceptors?: Interceptor[];
  /**
   * Authenticate to the server (CHAP, docs/auth.md) as `name` with `secret` (or its derived
   * `key`) before any call is sent; the server must require authentication too. The key is
   * derived here, once, when the channel is created (scrypt, ~70 ms on this thread, skipped when
   * `key` is given), never per connection or call. Default: none.
   */
  auth?: ChannelAuthOptions;
}

/**
 * A channel's authentication settings: plain data only (strings, bytes, numbers, booleans),
 * because blocking calls hand the channel options to a worker thread by structured clone.
 * `name`; exactly one of `secret` and `key`; `mutual` (default true: the server must prove it
 * knows the key too); `serverName` (refuse a server that calls itself otherwise);
 * `handshakeTimeoutMs` (default 10 000).
 */
export type ChannelAuthOptions = Omit<ClientAuthOptions, "clock">;

const AUTH_FIELDS = ["name", "secret", "key", "mutual", "serverName", "handshakeTimeoutMs"];

export interface NormalizedChannelOptions {
  timeoutMs: number | undefined;
  codec: Codec;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  interceptors: readonly Interceptor[];
  /** The key derived, ready for every connection's handshake; undefined: no authentication. */
  auth: ClientAuth | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Validates every option at createChannel: a mistake is an RpcError INVALID_ARGUMENT naming it. */
export function normalizeChannelOptions(target: string, options: ChannelOptions | undefined): NormalizedChannelOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new RpcError(Code.INVALID_ARGUMENT, `createChannel(${target}): options must be an object, got ${String(options)}`);
  }
  return {
    timeoutMs: checkTimeout(options.timeoutMs, `channel option timeoutMs for ${target}`),
    codec: resolveCodec(options.codec),
    maxBodyBytes: checkInteger(options.maxBodyBytes, "maxBodyBytes", 1, 0xffffffff, DEFAULT_MAX_BODY_BYTES),
    connectTimeoutMs: checkInteger(options.connectTimeoutMs, "connectTimeoutMs", 1, 0x7fffffff, DEFAULT_CONNECT_TIMEOUT_MS),
    interceptors: checkInterceptors(options.interceptors),
    auth: resolveAuth(target, options.auth),
  };
}

function resolveAuth(target: string, auth: ChannelAuthOptions | undefined): ClientAuth | undefined {
  if (auth === undefined) return undefined;
  const prototype = typeof auth === "object" && auth !== null ? Object.getPrototypeOf(auth) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `channel option auth for ${target} must be a plain object { name, secret } or { name, key }, got ${describe(auth)}`,
    );
  }
  const unknown = Object.keys(auth).filter((field) => !AUTH_FIELDS.includes(field));
  if (unknown.length > 0) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `channel option auth for ${target} has unknown field${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")}: expected ${AUTH_FIELDS.join(", ")}`,
    );
  }
  try {
    return new ClientAuth(auth);
  } catch (error) {
    // The auth code's messages name the field at fault, never a secret or key.
    throw new RpcError(Code.INVALID_ARGUMENT, `channel option auth for ${target}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return `a ${typeof value}`;
  return `an instance of ${(value as object).constructor?.name ?? "a class"}`;
}

/**
 * The auth options a blocking-call worker gets: the derived key instead of the secret, so the
 * worker derives nothing (and the secret does not cross threads). Plain data, structured-clone safe.
 */
export function workerAuthOptions(auth: ClientAuth): ChannelAuthOptions {
  return {
    name: auth.name,
    key: Uint8Array.from(AuthKey.bytesOf(auth.key)),
    mutual: auth.mutual,
    handshakeTimeoutMs: auth.handshakeTimeoutMs,
    ...(auth.serverName !== undefined && { serverName: auth.serverName }),
  };
}
