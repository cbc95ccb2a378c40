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
}

export interface NormalizedServerOptions {
  addresses: ResolvedAddress[];
  maxBodyBytes: number;
  maxConcurrentCalls: number;
  interceptors: readonly Interceptor[];
  unixSocketMode: number;
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
  };
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
