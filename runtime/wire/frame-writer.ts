import { FrameFlags, type FrameHeader, HEADER_BYTES, writeHeader } from "./header.js";

/**
 * What a sender fills in for a frame. `length` is not part of it: the writer computes it from the
 * body (and metadata block). Senders keep one of these and reuse it for every frame they send.
 */
export type OutgoingHeader = Omit<FrameHeader, "length">;

/**
 * Encodes one complete frame into a new buffer: header, then the metadata block (when given, and
 * FrameFlags.METADATA is then set), then the body. One copy of the body. For datagram transports
 * and tests; stream connections batch frames with a FrameOutbox instead.
 */
export function encodeFrame(header: OutgoingHeader, body: Uint8Array, metadataBlock?: Uint8Array): Uint8Array {
  const metadataBytes = metadataBlock === undefined ? 0 : metadataBlock.length;
  const frame = new Uint8Array(HEADER_BYTES + metadataBytes + body.length);
  putFrame(frame, 0, header, body, metadataBlock);
  return frame;
}

/** Frame size on the wire. */
export function frameBytes(body: Uint8Array, metadataBlock?: Uint8Array): number {
  return HEADER_BYTES + (metadataBlock === undefined ? 0 : metadataBlock.length) + body.length;
}

function putFrame(
  target: Uint8Array,
  offset: number,
  header: OutgoingHeader,
  body: Uint8Array,
  metadataBlock: Uint8Array | undefined,
): number {
  let at = offset + HEADER_BYTES;
  let flags = header.flags;
  if (metadataBlock !== undefined) {
    flags |= FrameFlags.METADATA;
    target.set(metadataBlock, at);
    at += metadataBlock.length;
  }
  target.set(body, at);
  at += body.length;
  writeHeader(
    target,
    offset,
    header.kind,
    header.codec,
    flags,
    header.status,
    header.seq,
    header.method,
    header.timeoutMs,
    at - offset - HEADER_BYTES,
  );
  return at;
}

/** Slab size: frames are packed into slabs of this size; a larger frame gets a slab of its own. */
const SLAB_BYTES = 64 * 1024;

/**
 * Collects the frames a stream connection sends during one tick, packed back to back, so they
 * leave in one write. Frames are copied once, into a slab; take() hands out views of the slab
 * without copying, and never hands out the same bytes twice, so a view stays valid while the
 * socket still holds it (later frames go after it, or into a new slab). When the owner knows
 * every view handed out has been consumed (the socket wrote it synchronously), recycle() lets
 * the slab be filled again from the start: in the steady state no buffer is allocated at all.
 */
export class FrameOutbox {
  private slab: Uint8Array = new Uint8Array(0);
  /** Start of the bytes not yet taken. */
  private start = 0;
  private used = 0;
  /** Earlier slabs' untaken bytes, when a batch outgrew one slab. */
  private overflow: Uint8Array[] | undefined;

  get isEmpty(): boolean {
    return this.used === this.start && this.overflow === undefined;
  }

  append(header: OutgoingHeader, body: Uint8Array, metadataBlock?: Uint8Array): void {
    const size = frameBytes(body, metadataBlock);
    if (this.slab.length - this.used < size) this.newSlab(size);
    this.used = putFrame(this.slab, this.used, header, body, metadataBlock);
  }

  /** The batched bytes (one buffer in the common case), or undefined when empty. */
  take(): Uint8Array | Uint8Array[] | undefined {
    const current = this.used > this.start ? this.slab.subarray(this.start, this.used) : undefined;
    this.start = this.used;
    const overflow = this.overflow;
    if (overflow === undefined) return current;
    this.overflow = undefined;
    if (current !== undefined) overflow.push(current);
    return overflow;
  }

  /**
   * Declares every byte handed out by take() consumed (no longer referenced by anyone): the slab
   * is reused from its start. Must only be called with nothing appended since the last take().
   */
  recycle(): void {
    if (this.used !== this.start || this.overflow !== undefined) return;
    // A slab grown for one huge frame is not kept.
    if (this.slab.length > SLAB_BYTES) this.slab = new Uint8Array(0);
    this.start = 0;
    this.used = 0;
  }

  private newSlab(size: number): void {
    if (this.used > this.start) {
      (this.overflow ??= []).push(this.slab.subarray(this.start, this.used));
    }
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, size));
    this.start = 0;
    this.used = 0;
  }
}
