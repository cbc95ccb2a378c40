/**
 * The msf frame header: 24 bytes, every multi-byte field in network byte order (big-endian).
 * docs/protocol.md is the specification; this file is its one implementation.
 *
 *   offset size field
 *        0    2 magic        0x4D 0x53 ("MS")
 *        2    1 version      PROTOCOL_VERSION
 *        3    1 kind         FrameKind
 *        4    1 codec        CodecId of the body (requests and successful replies)
 *        5    1 flags        FrameFlags bit set
 *        6    2 status       Code on RESPONSE frames (0 = OK); 0 on every other kind
 *        8    4 seq          request sequence number, chosen by the client, echoed by the reply
 *       12    4 method       method id (FNV-1a 32 of the method's full name), 0 where unused
 *       16    4 timeout      ms left until the call's deadline when sent; 0 = no deadline
 *       20    4 length       number of body bytes that follow the header
 *
 * A frame is the header followed by exactly `length` body bytes. When FrameFlags.METADATA is set
 * the body starts with a metadata block (see metadata.ts) and the message follows it.
 */
export const HEADER_BYTES = 24;
export const MAGIC = 0x4d53;
export const PROTOCOL_VERSION = 1;

/** Largest body a peer accepts unless configured otherwise (4 MiB, gRPC's default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Largest value the 32-bit timeout field carries (~24.8 days): longer timeouts are sent as this. */
export const MAX_TIMEOUT_MS = 0x7fffffff;

export enum FrameKind {
  /** Client → server: call `method` with the body as request. */
  REQUEST = 1,
  /** Server → client: the reply to `seq`; status 0 carries the response, otherwise a UTF-8 error message. */
  RESPONSE = 2,
  /** Client → server: the caller gave up on `seq` (deadline or abort); no reply follows. */
  CANCEL = 3,
  /** Either side: liveness probe; the peer answers PONG with the same seq and body. */
  PING = 4,
  PONG = 5,
  /** Server → client: the server is draining; no new requests on this connection. */
  GOAWAY = 6,
  /** Authentication handshake (CHAP); the only kind accepted before authentication succeeds. */
  AUTH = 7,
}

export enum FrameFlags {
  NONE = 0,
  /** The body starts with a metadata block. */
  METADATA = 1 << 0,
  /**
   * On an error RESPONSE: the server did not start the call (it arrived after the server sent
   * GOAWAY), so the client may send it again on another connection.
   */
  REFUSED = 1 << 1,
  /**
   * Datagram transports only (udp, netlink; runtime/transport/datagram-frame.ts): the datagram
   * ends with a 24-byte authentication trailer after the body, a u64 datagram counter and a
   * 16-byte tag (Session.tag over everything before the tag). Set on every datagram sent after
   * the connection's CHAP session was bound (Connection.bindSession). Never set on a stream.
   */
  TAGGED = 1 << 2,
}

export interface FrameHeader {
  kind: FrameKind;
  codec: number;
  flags: number;
  status: number;
  seq: number;
  method: number;
  timeoutMs: number;
  length: number;
}

/** Writes a header at `offset` of `target` (which must have HEADER_BYTES free there). */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  kind: FrameKind,
  codec: number,
  flags: number,
  status: number,
  seq: number,
  method: number,
  timeoutMs: number,
  length: number,
): void {
  target[offset] = 0x4d;
  target[offset + 1] = 0x53;
  target[offset + 2] = PROTOCOL_VERSION;
  target[offset + 3] = kind;
  target[offset + 4] = codec;
  target[offset + 5] = flags;
  target[offset + 6] = status >>> 8;
  target[offset + 7] = status & 0xff;
  writeU32(target, offset + 8, seq);
  writeU32(target, offset + 12, method);
  writeU32(target, offset + 16, timeoutMs);
  writeU32(target, offset + 20, length);
}

export function readU32(source: Uint8Array, offset: number): number {
  return (
    ((source[offset]! << 24) >>> 0) +
    (source[offset + 1]! << 16) +
    (source[offset + 2]! << 8) +
    source[offset + 3]!
  );
}

export function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

/** FNV-1a 32-bit hash of a method's full name ("flight.flight_service.queryFlight"): its wire id. */
export function methodId(fullName: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < fullName.length; i++) {
    hash ^= fullName.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
