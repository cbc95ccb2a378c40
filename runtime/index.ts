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
