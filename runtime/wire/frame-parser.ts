import {
  DEFAULT_MAX_BODY_BYTES,
  FrameKind,
  type FrameHeader,
  HEADER_BYTES,
  PROTOCOL_VERSION,
  readU32,
} from "./header.js";
import { ProtocolError } from "./protocol-error.js";

/** Receives the frames a FrameParser finds, in stream order. */
export interface FrameSink {
  /**
   * One complete frame. `header` is the parser's own object, overwritten by the next frame: read
   * its fields during the call, do not keep it. `body` stays valid: it is a view of the received
   * chunk when the frame lay within one chunk, or a copy assembled from several.
   * Must not throw (a throw propagates out of push() and leaves the rest of the chunk unread).
   */
  onFrame(header: FrameHeader, body: Uint8Array): void;
}

const EMPTY = new Uint8Array(0);
const LAST_KIND = FrameKind.AUTH;
/** First allocation for a body split across chunks; it grows fourfold (up to the declared length) as bytes arrive. */
const BODY_START_BYTES = 64 * 1024;

/**
 * Incremental parser for one connection's byte stream: feed it chunks as they arrive, in any
 * split (a header cut in two, several frames packed in one chunk), and it hands complete frames
 * to the sink. Each header is checked (magic, version, kind, body length against the limit)
 * before anything is allocated for its body, so a peer cannot make it allocate by lying. Even a
 * length within the limit is not trusted with memory: a body split across chunks is gathered in
 * a buffer that starts at BODY_START_BYTES and grows fourfold as bytes arrive, so what a partial
 * frame holds stays within four times what the peer actually sent (a 24-byte header declaring 4 MiB costs
 * 64 KiB, not 4 MiB, until the bytes come).
 * The first bad frame throws a ProtocolError; from then on the parser refuses all input (the
 * stream has lost its framing, the connection must be closed).
 */
export class FrameParser {
  private readonly header: FrameHeader = {
    kind: FrameKind.REQUEST,
    codec: 0,
    flags: 0,
    status: 0,
    seq: 0,
    method: 0,
    timeoutMs: 0,
    length: 0,
  };
  /** A header split across chunks is gathered here. */
  private readonly headerScratch = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  /** Stream offset of the header being gathered (for error messages). */
  private headerStart = 0;
  /**
   * A body split across chunks is gathered here: `pendingLength` bytes (checked against the
   * limit) in a buffer that grows with what has arrived (see the class comment).
   */
  private pendingBody: Uint8Array | undefined;
  private pendingLength = 0;
  private bodyFill = 0;
  /** Bytes of the stream consumed before the current chunk. */
  private streamOffset = 0;
  private failure: ProtocolError | undefined;
  private halted = false;
  private limit: number;
  /** Said after the limit in the error message ("before authentication"), when the limit was lowered for a reason. */
  private limitReason = "";

  constructor(
    private readonly sink: FrameSink,
    maxBodyBytes: number = DEFAULT_MAX_BODY_BYTES,
  ) {
    this.limit = maxBodyBytes;
  }

  /** The largest body accepted in a frame whose header is read from now on. */
  get maxBodyBytes(): number {
    return this.limit;
  }

  /**
   * Changes the body limit for the headers read from now on (a body already in progress keeps the
   * length it was admitted with). `reason`, if given, is added to the error of a frame over it
   * ("... exceeds the limit of 2048 bytes before authentication").
   */
  setMaxBodyBytes(maxBodyBytes: number, reason?: string): void {
    this.limit = maxBodyBytes;
    this.limitReason = reason === undefined ? "" : ` ${reason}`;
  }

  /** Bytes received so far that belong to a frame not yet complete (its header included). */
  get buffered(): number {
    return this.pendingBody === undefined ? this.headerFill : HEADER_BYTES + this.bodyFill;
  }

  /**
   * Stops delivery: the rest of the current chunk and every later chunk are ignored. For a sink
   * that closes its connection from inside onFrame.
   */
  halt(): void {
    this.halted = true;
  }

  /** Parses `chunk`; throws ProtocolError on the first malformed frame. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.halted) return;
    // Bodies are handed out as plain Uint8Array views: cheaper to make than Buffer slices.
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    const end = chunk.length;
    let pos = 0;
    try {
      while (pos < end && !this.halted) {
        if (this.pendingBody !== undefined) {
          pos = this.continueBody(chunk, pos);
        } else if (this.headerFill === 0 && end - pos >= HEADER_BYTES) {
          // Fast path: the header lies within this chunk, and usually the body too.
          this.decodeHeader(chunk, pos, this.streamOffset + pos);
          pos += HEADER_BYTES;
          const length = this.header.length;
          if (end - pos >= length) {
            const body = length === 0 ? EMPTY : chunk.subarray(pos, pos + length);
            pos += length;
            this.sink.onFrame(this.header, body);
          } else {
            this.startBody(length);
          }
        } else {
          pos = this.continueHeader(chunk, pos);
        }
      }
    } finally {
      this.streamOffset += end;
    }
  }

  private continueHeader(chunk: Uint8Array, pos: number): number {
    if (this.headerFill === 0) this.headerStart = this.streamOffset + pos;
    const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - pos);
    this.headerScratch.set(chunk.subarray(pos, pos + take), this.headerFill);
    this.headerFill += take;
    if (this.headerFill === HEADER_BYTES) {
      this.headerFill = 0;
      this.decodeHeader(this.headerScratch, 0, this.headerStart);
      const length = this.header.length;
      if (length === 0) {
        this.sink.onFrame(this.header, EMPTY);
      } else {
        this.startBody(length);
      }
    }
    return pos + take;
  }

  private startBody(length: number): void {
    // allocUnsafe: every byte is written before the body is handed out (no zero-filling to pay).
    this.pendingBody = Buffer.allocUnsafe(Math.min(length, BODY_START_BYTES));
    this.pendingLength = length;
    this.bodyFill = 0;
  }

  private continueBody(chunk: Uint8Array, pos: number): number {
    let body = this.pendingBody!;
    const take = Math.min(this.pendingLength - this.bodyFill, chunk.length - pos);
    const filled = this.bodyFill + take;
    if (filled > body.length) {
      // Grow with what arrived: fourfold (few copies for a big body that keeps coming), never
      // past the declared length (so a complete body fills its buffer exactly).
      const grown = Buffer.allocUnsafe(Math.min(this.pendingLength, Math.max(filled, body.length * 4)));
      grown.set(body.subarray(0, this.bodyFill));
      body = grown;
      this.pendingBody = grown;
    }
    body.set(chunk.subarray(pos, pos + take), this.bodyFill);
    this.bodyFill = filled;
    if (filled === this.pendingLength) {
      this.pendingBody = undefined;
      this.bodyFill = 0;
      this.sink.onFrame(this.header, body);
    }
    return pos + take;
  }

  /** Validates and decodes the header at `source[at]`; `streamAt` is its offset in the stream. */
  private decodeHeader(source: Uint8Array, at: number, streamAt: number): void {
    if (source[at] !== 0x4d || source[at + 1] !== 0x53) {
      const found = ((source[at]! << 8) | source[at + 1]!).toString(16).padStart(4, "0");
      this.fail(`bad magic 0x${found}, expected 0x4d53 ("MS") at the start of a frame`, streamAt);
    }
    const version = source[at + 2]!;
    if (version !== PROTOCOL_VERSION) {
      this.fail(`unsupported protocol version ${version}, this peer speaks version ${PROTOCOL_VERSION}`, streamAt + 2);
    }
    const kind = source[at + 3]!;
    if (kind < FrameKind.REQUEST || kind > LAST_KIND) {
      this.fail(`unknown frame kind ${kind}, expected ${FrameKind.REQUEST}..${LAST_KIND}`, streamAt + 3);
    }
    const length = readU32(source, at + 20);
    if (length > this.limit) {
      this.fail(`frame body of ${length} bytes exceeds the limit of ${this.limit} bytes${this.limitReason}`, streamAt + 20);
    }
    const header = this.header;
    header.kind = kind;
    header.codec = source[at + 4]!;
    header.flags = source[at + 5]!;
    header.status = (source[at + 6]! << 8) | source[at + 7]!;
    header.seq = readU32(source, at + 8);
    header.method = readU32(source, at + 12);
    header.timeoutMs = readU32(source, at + 16);
    header.length = length;
  }

  private fail(reason: string, offset: number): never {
    this.failure = new ProtocolError(reason, offset);
    throw this.failure;
  }
}
