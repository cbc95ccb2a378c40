// The raw baseline's framing: each frame is a 4-byte big-endian body length, a 4-byte big-endian
// call id, then the body. It is what a lean RPC framework does at minimum, so the ratios to it
// are honest: an incremental reader that handles frames split across chunks and many frames in
// one chunk, and a writer that coalesces every frame queued during one event-loop turn into one
// write from a reused slab (the technique msf's own writer uses: the baseline must not be beatable).
import type { Socket } from "node:net";

export const RAW_HEADER_BYTES = 8;
/** A larger declared length means a corrupt stream: the reader fails instead of allocating. */
export const RAW_MAX_BODY_BYTES = 4 * 1024 * 1024;

export type FrameHandler = (id: number, body: Buffer) => void;

/** Reads frames from a byte stream, chunk by chunk. */
export class FrameReader {
  private rest: Buffer | undefined;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Delivers every complete frame in `chunk` (plus bytes left from earlier chunks), in order. */
  push(chunk: Buffer): void {
    let offset = 0;
    const rest = this.rest;
    if (rest !== undefined) {
      // Complete the frame begun in earlier chunks, copying only its own bytes of this chunk.
      const head = rest.length >= RAW_HEADER_BYTES ? rest : Buffer.concat([rest, chunk.subarray(0, RAW_HEADER_BYTES - rest.length)]);
      if (head.length < RAW_HEADER_BYTES) {
        this.rest = head;
        return;
      }
      const missing = RAW_HEADER_BYTES + bodyLength(head, 0) - rest.length;
      if (chunk.length < missing) {
        this.rest = Buffer.concat([rest, chunk]);
        return;
      }
      this.rest = undefined;
      const frame = Buffer.concat([rest, chunk.subarray(0, missing)]);
      this.onFrame(frame.readUInt32BE(4), frame.subarray(RAW_HEADER_BYTES));
      offset = missing;
    }
    const end = chunk.length;
    while (end - offset >= RAW_HEADER_BYTES) {
      const frameEnd = offset + RAW_HEADER_BYTES + bodyLength(chunk, offset);
      if (frameEnd > end) break;
      this.onFrame(chunk.readUInt32BE(offset + 4), chunk.subarray(offset + RAW_HEADER_BYTES, frameEnd));
      offset = frameEnd;
    }
    if (offset < end) this.rest = chunk.subarray(offset);
  }
}

function bodyLength(buffer: Buffer, offset: number): number {
  const length = buffer.readUInt32BE(offset);
  if (length > RAW_MAX_BODY_BYTES) {
    throw new Error(`raw frame declares a ${length}-byte body, more than the ${RAW_MAX_BODY_BYTES} allowed`);
  }
  return length;
}

/** Frames are packed into slabs of this size; a larger frame gets a slab of its own. */
const SLAB_BYTES = 64 * 1024;

/**
 * Queues frames for one socket and writes every frame queued during one turn of the event loop
 * with one socket.write(), from a setImmediate (it runs after all of the turn's I/O callbacks and
 * the promise continuations they caused). Frames are copied once, into a reused slab; a written
 * range is never reused, so the socket may hold on to it.
 */
export class FrameWriter {
  private slab: Buffer = Buffer.alloc(0);
  /** Start of the bytes not yet written. */
  private start = 0;
  private used = 0;
  /** Earlier slabs' unwritten bytes, when one turn's frames outgrew a slab. */
  private full: Buffer[] = [];
  private scheduled = false;
  private readonly flushBound = (): void => this.flush();

  constructor(private readonly socket: Socket) {}

  add(id: number, body: Uint8Array): void {
    const size = RAW_HEADER_BYTES + body.length;
    if (this.slab.length - this.used < size) this.newSlab(size);
    const slab = this.slab;
    const at = this.used;
    slab.writeUInt32BE(body.length, at);
    slab.writeUInt32BE(id, at + 4);
    slab.set(body, at + RAW_HEADER_BYTES);
    this.used = at + size;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushBound);
    }
  }

  private newSlab(size: number): void {
    if (this.used > this.start) this.full.push(this.slab.subarray(this.start, this.used));
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, size));
    this.start = 0;
    this.used = 0;
  }

  private flush(): void {
    this.scheduled = false;
    const current = this.slab.subarray(this.start, this.used);
    this.start = this.used;
    const full = this.full;
    if (full.length > 0) this.full = [];
    if (this.socket.destroyed) return;
    if (full.length === 0) {
      this.socket.write(current);
      return;
    }
    this.socket.cork();
    for (const part of full) this.socket.write(part);
    if (current.length > 0) this.socket.write(current);
    this.socket.uncork();
  }
}
