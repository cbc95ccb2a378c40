/**
 * msf's public entry point: what applications import from "msf".
 * Generated code imports only from here, so it works unchanged wherever msf is installed.
 */
export { Code, codeName } from "./code.js";
export { RpcError } from "./rpc-error.js";
export type { CallContext, PeerInfo } from "./call-context.js";
export type { Metadata } from "./metadata.js";
export type {
  MessageType,
  MethodDefinition,
  MethodHandler,
  ServiceDefinition,
  ServiceHandlers,
} from "./definition.js";
export type { Channel } from "./client/channel-api.js";
export type { CallOptions } from "./client/call-options.js";
export type { Codec, CodecName } from "./codec/codec.js";
export { createChannel } from "./client/create-channel.js";
export type { ChannelOptions } from "./client/channel-options.js";
export { createServer } from "./server/server.js";
export type { Server, ServerOptions } from "./server/server.js";
export type { Interceptor, UnaryCall, UnaryFn, ClientUnaryCall, ServerUnaryCall } from "./interceptor.js";
// Authentication (CHAP, docs/auth.md): createServer({ auth }), createChannel(target, { auth }).
export type { ChannelAuthOptions } from "./client/channel-options.js";
export type { AuthFailureInfo } from "./server/server.js";
export { AuthFailureReason, AuthKey, createServerAuth, ServerAuth } from "./auth/index.js";
export type { CredentialEntry, Credentials, FailureThrottleOptions, Secret, ServerAuthOptions } from "./auth/index.js";
