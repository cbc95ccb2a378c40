import { Code } from "../code.js";
import type { Codec, CodecName } from "../codec/codec.js";
import { resolveCodec } from "../codec/registry.js";
import { checkTimeout } from "../deadline.js";
import type { Interceptor } from "../interceptor.js";
import { RpcError } from "../rpc-error.js";
import { checkInteger, checkInterceptors } from "../server/server-options.js";
import { DEFAULT_MAX_BODY_BYTES } from "../wire/header.js";

export interface ChannelOptions {
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
}

export interface NormalizedChannelOptions {
  timeoutMs: number | undefined;
  codec: Codec;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  interceptors: readonly Interceptor[];
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
  };
}
