import type { Session } from "../auth/session.js";
import type { ConnectionHandler } from "../transport/transport.js";
import { FrameParser } from "../wire/frame-parser.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameFlags, HEADER_BYTES, writeHeader } from "../wire/header.js";
import type { SyncSocketAddon } from "./sync-native-addon.js";
import type { StreamAddress } from "./sync-native-target.js";

/**
 * One open connection of the native blocking engine (sync-native-connection.ts) as the engine
 * sees it, whatever carries it: frames out, frames in, on the calling thread, nothing in the
 * background. Implemented over a stream (StreamWire, below) and over datagrams
 * (sync-native-datagram.ts, the datagram layer driven by the caller's waits).
 *
 * Frames and the end of the connection are reported to the handler given when the wire was
 * opened, only from inside receive(): onFrame with a body valid until receive() returns unless
 * lasting(body) says otherwise (copy what you keep); onClose once, when the connection is lost
 * (error undefined: the peer closed it). [not thread-safe; one wire per engine]
 */
export interface BlockingWire {
  /** The descriptor (closed by close(); a finalizer closes it when the engine is collected unclosed). */
  readonly fd: number;
  /**
   * Sends one frame, waiting at most `timeoutMs` (< 0: no limit) for room. False when the time
   * passed first with part of it unsent: the connection is unusable (a stream cannot resume
   * mid-frame). Throws the system's Error when the connection fails; the engine then drops it.
   */
  send(header: OutgoingHeader, body: Uint8Array, metadataBlock: Uint8Array | undefined, timeoutMs: number): boolean;
  /**
   * Waits at most `waitMs` (0: not at all; < 0: no limit) for input and reports what it brings.
   * True when something happened (frames, the close, a retransmission): the caller looks again
   * at its state; false when the time passed with nothing. Never throws.
   */
  receive(waitMs: number): boolean;
  /** True when `body`, delivered by this wire, stays valid after receive() returned (it is not in a reused buffer). */
  lasting(body: Uint8Array): boolean;
  /**
   * True when the peer may have forgotten this connection since it was last used (a datagram
   * server forgets idle peers): the engine then opens a new one before the next call.
   */
  idleTooLong(): boolean;
  /** The CHAP session the handshake produced (a datagram wire tags every datagram from now on). */
  bindSession(session: Session): void;
  /** Closes the descriptor (a datagram wire tells the server first). Idempotent. */
  close(): void;
}

/**
 * A unix or tcp connection: frames back to back in a byte stream, read through the runtime's
 * FrameParser, written with one blocking write each. The socket is opened by the constructor's
 * caller (the addon's connectUnix / connectTcp).
 */
export class StreamWire implements BlockingWire {
  /** Bytes read per read(2): frames larger than this arrive over several reads. */
  static readonly READ_BYTES = 64 * 1024;

  private readonly readBuffer = new Uint8Array(StreamWire.READ_BYTES);
  /** Frames are assembled here (grown when a frame does not fit). */
  private writeBuffer = new Uint8Array(4096);
  private readonly parser: FrameParser;
  private closed = false;
  /** The connection was lost (onClose reported). */
  private ended = false;

  constructor(
    private readonly addon: SyncSocketAddon,
    readonly fd: number,
    private readonly handler: ConnectionHandler,
    maxBodyBytes: number,
  ) {
    this.parser = new FrameParser(handler, maxBodyBytes);
  }

  /** Connects to `address`; throws the addon's Error (code ETIMEDOUT when `limitMs` passed first). */
  static open(addon: SyncSocketAddon, address: StreamAddress, handler: ConnectionHandler, maxBodyBytes: number, limitMs: number): StreamWire {
    const fd = address.scheme === "unix" ? addon.connectUnix(address.path, limitMs) : addon.connectTcp(address.host, address.port, limitMs);
    return new StreamWire(addon, fd, handler, maxBodyBytes);
  }

  send(header: OutgoingHeader, body: Uint8Array, metadataBlock: Uint8Array | undefined, timeoutMs: number): boolean {
    const metadataBytes = metadataBlock === undefined ? 0 : metadataBlock.length;
    const size = HEADER_BYTES + metadataBytes + body.length;
    if (this.writeBuffer.length < size) this.writeBuffer = new Uint8Array(Math.max(size, this.writeBuffer.length * 2));
    const frame = this.writeBuffer;
    const flags = metadataBlock === undefined ? header.flags & ~FrameFlags.METADATA : header.flags | FrameFlags.METADATA;
    writeHeader(frame, 0, header.kind, header.codec, flags, header.status, header.seq, header.method, header.timeoutMs, metadataBytes + body.length);
    if (metadataBlock !== undefined) frame.set(metadataBlock, HEADER_BYTES);
    frame.set(body, HEADER_BYTES + metadataBytes);
    return this.addon.write(this.fd, frame.subarray(0, size), timeoutMs) === size;
  }

  receive(waitMs: number): boolean {
    if (this.closed || this.ended) return false;
    let count: number;
    try {
      count = this.addon.read(this.fd, this.readBuffer, 0, waitMs);
    } catch (error) {
      this.lost(new Error(describeError(error), { cause: error }));
      return true;
    }
    if (count < 0) return false;
    if (count === 0) {
      this.lost(undefined);
      return true;
    }
    try {
      this.parser.push(this.readBuffer.subarray(0, count));
    } catch (error) {
      this.lost(error instanceof Error ? error : new Error(String(error)));
    }
    return true;
  }

  lasting(body: Uint8Array): boolean {
    // A frame split across reads is assembled by the parser in a buffer of its own.
    return body.buffer !== this.readBuffer.buffer;
  }

  idleTooLong(): boolean {
    // A stream's peer keeps it as long as it is open; a closed one is seen as end of stream.
    return false;
  }

  bindSession(_session: Session): void {
    // A stream carries no per-frame tag: the handshake authenticated the connection itself.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.halt();
    try {
      this.addon.close(this.fd);
    } catch {
      // EBADF cannot happen (the fd is ours and closed once); nothing else can be done about an error here.
    }
  }

  private lost(error: Error | undefined): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.parser.halt();
    this.handler.onClose(error);
  }
}

/** "ECONNRESET (read: Connection reset by peer)": the errno name first (unless the message starts with it), then the system's words. */
export function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined || message.startsWith(code) ? message : `${code} (${message})`;
}
