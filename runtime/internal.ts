/**
 * msf's internal entry point ("msf/internal"): the building blocks under the public API, for
 * generated code, plugins, transports added from outside and tools. NOT covered by semver:
 * anything here may change in a minor release.
 */
export {
  DEFAULT_MAX_BODY_BYTES,
  FrameFlags,
  FrameKind,
  HEADER_BYTES,
  MAGIC,
  MAX_TIMEOUT_MS,
  PROTOCOL_VERSION,
  methodId,
  readU32,
  writeHeader,
  writeU32,
  type FrameHeader,
} from "./wire/header.js";
export { FrameParser, type FrameSink } from "./wire/frame-parser.js";
export { FrameOutbox, encodeFrame, type OutgoingHeader } from "./wire/frame-writer.js";
export { decodeMetadata, encodeMetadata, type DecodedMetadata } from "./wire/metadata-block.js";
export { decodeErrorBody, encodeErrorBody } from "./wire/error-body.js";
export { ProtocolError } from "./wire/protocol-error.js";
export { registerTransport, resolveAddress, type ResolvedAddress } from "./transport/registry.js";
export { StreamConnection } from "./transport/stream-connection.js";
export type {
  ConnectOptions,
  Connection,
  ConnectionHandler,
  Endpoint,
  ListenOptions,
  Listener,
  Transport,
} from "./transport/transport.js";
export { TimerQueue, timerQueue, type Timed } from "./timer-queue.js";
export { checkTimeout, deadlineFromField, timeoutField } from "./deadline.js";
export { applyInterceptors } from "./interceptor.js";
export { codecById, resolveCodec } from "./codec/registry.js";
// Raw calls: bodies carried as bytes, for brokers and proxies (msfd forwards calls this way).
export { rawCodec } from "./codec/raw.js";
export { rawMethod } from "./raw-method.js";
export type { RawHandler } from "./server/router.js";
