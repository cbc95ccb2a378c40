import type { OutgoingHeader } from "../wire/frame-writer.js";
import {
  FrameFlags,
  FrameKind,
  type FrameHeader,
  HEADER_BYTES,
  MAGIC,
  PROTOCOL_VERSION,
  readU32,
  writeHeader,
  writeU32,
} from "../wire/header.js";

/**
 * One msf frame per datagram (udp, netlink): the 24-byte header of runtime/wire/header.ts, the
 * body, and — once the connection's session is bound (FrameFlags.TAGGED) — a 24-byte trailer:
 *
 *   header (24) | body (length) | [counter u64 BE (8) | tag (16)]
 *
 * The header's `length` counts the body only, so a datagram's size must be exactly
 * 24 + length (+ 24 when TAGGED). docs/protocol.md, "Datagram transports", is the specification.
 *
 * Kind 8 (CONTROL_KIND) is the datagram layer's own: its frames open, refuse and close the
 * per-peer "connections" a datagram socket has none of. They never reach the RPC layer and never
 * appear on a stream (whose parser accepts kinds 1..7 only). The control type is in the `method`
 * field; seq, codec, status and timeout are 0.
 */
export const CONTROL_KIND = 8 as FrameKind;

export enum ControlType {
  /** Client → server: open a connection. Body: connection id (8 random bytes) · u32 largest body the client accepts. */
  CONNECT = 1,
  /** Server → client: the connection is open. Body: the CONNECT's connection id · u32 largest body the server accepts. */
  ACCEPT = 2,
  /** Server → client: "I know no connection from you" (or "not accepting"). Body: the offending datagram's header and trailer, echoed. */
  RESET = 3,
  /** Either way: this side closed the connection. Empty body. */
  CLOSE = 4,
}

export const COUNTER_BYTES = 8;
export const TAG_BYTES = 16;
export const TRAILER_BYTES = COUNTER_BYTES + TAG_BYTES;
/**
 * What a datagram holds besides the body: the header and room for the trailer. The body limit
 * per datagram is the datagram limit minus this, whether or not the connection is tagged, so the
 * limit a caller sees does not change when a session is bound.
 */
export const DATAGRAM_OVERHEAD = HEADER_BYTES + TRAILER_BYTES;
export const CONNECTION_ID_BYTES = 8;
const CONNECT_BODY_BYTES = CONNECTION_ID_BYTES + 4;

/**
 * Encodes a frame into a new datagram: header, metadata block (when given; FrameFlags.METADATA is
 * then set), body, and a zeroed trailer when `tagged` (FrameFlags.TAGGED set; the sealer fills it).
 */
export function encodeDatagram(header: OutgoingHeader, body: Uint8Array, metadataBlock: Uint8Array | undefined, tagged: boolean): Uint8Array {
  const metadataBytes = metadataBlock === undefined ? 0 : metadataBlock.length;
  const length = metadataBytes + body.length;
  // Buffer.allocUnsafe carves small buffers out of Node's shared pool: a plain Uint8Array of this
  // size would get a backing store of its own (a malloc and a GC-tracked extension) per frame.
  // Every byte is written below (the trailer by the sealer before the datagram is sent).
  const datagram: Uint8Array = Buffer.allocUnsafe(HEADER_BYTES + length + (tagged ? TRAILER_BYTES : 0));
  let flags = header.flags & ~FrameFlags.TAGGED;
  if (metadataBlock !== undefined) {
    flags |= FrameFlags.METADATA;
    datagram.set(metadataBlock, HEADER_BYTES);
  }
  if (tagged) flags |= FrameFlags.TAGGED;
  datagram.set(body, HEADER_BYTES + metadataBytes);
  writeHeader(datagram, 0, header.kind, header.codec, flags, header.status, header.seq, header.method, header.timeoutMs, length);
  return datagram;
}

/** A control frame (kind 8) of `type` with `body`, untagged (the sealer adds the trailer when bound). */
export function encodeControl(type: ControlType, body: Uint8Array, tagged: boolean): Uint8Array {
  const datagram = new Uint8Array(HEADER_BYTES + body.length + (tagged ? TRAILER_BYTES : 0));
  datagram.set(body, HEADER_BYTES);
  writeHeader(datagram, 0, CONTROL_KIND, 0, tagged ? FrameFlags.TAGGED : 0, 0, 0, type, 0, body.length);
  return datagram;
}

/** The datagram with its trailer replaced by a fresh zeroed one (for sending it again under a new counter). */
export function copyForResend(datagram: Uint8Array, tagged: boolean): Uint8Array {
  // A copy, never a view (Buffer#slice would be one): the original may still be queued to send.
  const copy = new Uint8Array(datagram);
  if (tagged) copy.fill(0, copy.length - TRAILER_BYTES);
  return copy;
}

/** Why a datagram was not a frame; undefined when it is one. */
export type DatagramDefect = "short" | "magic" | "version" | "kind" | "length";

/**
 * Reads and checks the header of `datagram` into `into`. The datagram must be exactly one frame:
 * its size must match the header's length (and the trailer its TAGGED flag announces).
 */
export function decodeDatagramHeader(datagram: Uint8Array, into: FrameHeader): DatagramDefect | undefined {
  if (datagram.length < HEADER_BYTES) return "short";
  if (((datagram[0]! << 8) | datagram[1]!) !== MAGIC) return "magic";
  if (datagram[2] !== PROTOCOL_VERSION) return "version";
  const kind = datagram[3]!;
  if (kind < FrameKind.REQUEST || kind > CONTROL_KIND) return "kind";
  const flags = datagram[5]!;
  const length = readU32(datagram, 20);
  if (datagram.length !== HEADER_BYTES + length + ((flags & FrameFlags.TAGGED) !== 0 ? TRAILER_BYTES : 0)) return "length";
  into.kind = kind;
  into.codec = datagram[4]!;
  into.flags = flags;
  into.status = (datagram[6]! << 8) | datagram[7]!;
  into.seq = readU32(datagram, 8);
  into.method = readU32(datagram, 12);
  into.timeoutMs = readU32(datagram, 16);
  into.length = length;
  return undefined;
}

/** Overwrites the status field of an encoded datagram (the client's acknowledgement in REQUESTs). */
export function writeStatus(datagram: Uint8Array, status: number): void {
  datagram[6] = status >>> 8;
  datagram[7] = status & 0xff;
}

/** Body of CONNECT and ACCEPT. */
export function encodeConnectBody(connectionId: Uint8Array, maxBodyBytes: number): Uint8Array {
  const body = new Uint8Array(CONNECT_BODY_BYTES);
  body.set(connectionId, 0);
  writeU32(body, CONNECTION_ID_BYTES, maxBodyBytes);
  return body;
}

export interface ConnectBody {
  readonly connectionId: Uint8Array;
  readonly maxBodyBytes: number;
}

export function decodeConnectBody(body: Uint8Array): ConnectBody | undefined {
  if (body.length !== CONNECT_BODY_BYTES) return undefined;
  return { connectionId: new Uint8Array(body.subarray(0, CONNECTION_ID_BYTES)), maxBodyBytes: readU32(body, CONNECTION_ID_BYTES) };
}

/** Body of RESET: the header (and trailer, when tagged) of the datagram it answers. */
export function encodeResetBody(offending: Uint8Array): Uint8Array {
  const tagged = offending.length >= HEADER_BYTES + TRAILER_BYTES && (offending[5]! & FrameFlags.TAGGED) !== 0;
  const body = new Uint8Array(HEADER_BYTES + (tagged ? TRAILER_BYTES : 0));
  body.set(offending.subarray(0, HEADER_BYTES), 0);
  if (tagged) body.set(offending.subarray(offending.length - TRAILER_BYTES), HEADER_BYTES);
  return body;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
