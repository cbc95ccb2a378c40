import type { Socket } from "node:net";
import type { FrameHeader } from "../wire/header.js";
import { FrameParser, type FrameSink } from "../wire/frame-parser.js";
import { FrameOutbox, type OutgoingHeader } from "../wire/frame-writer.js";
import type { Connection, ConnectionHandler } from "./transport.js";

/**
 * A Connection over a byte-stream socket (unix, tcp): frames back to back, parsed incrementally
 * on the way in, batched on the way out. Frames sent during one tick leave in a single socket
 * write, flushed from process.nextTick: Node runs it once the current callback and the promise
 * continuations it triggered are done, so the replies to every request of one read (sync
 * handlers) go out together, and so do the calls a batch of resolved replies let callers make.
 * Replies of async handlers that settle in those continuations form a second batch at most.
 * (setImmediate would batch a little more, across the reads of one loop turn, but measured
 * slower: it delays every write to the end of the turn.)
 */
export class StreamConnection implements Connection, FrameSink {
  closed = false;
  receivedAt = 0;
  private handler: ConnectionHandler | undefined;
  private readonly parser: FrameParser;
  private readonly outbox = new FrameOutbox();
  private flushPending = false;
  private closeError: Error | undefined;
  private socketClosed = false;
  private closeReported = false;
  private readonly flushNow = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    readonly peerAddress: string,
    private readonly maxBodyBytes: number,
  ) {
    this.parser = new FrameParser(this, maxBodyBytes);
    // Listeners go on at once: an error between connect and start() must not go unhandled.
    socket.on("error", (error) => {
      this.closeError ??= error;
    });
    // The peer finished sending: in RPC terms the connection is over (allowHalfOpen is off, so
    // the socket ends its own side and "close" follows).
    socket.on("end", () => {
      this.closed = true;
    });
    socket.on("close", () => {
      this.socketClosed = true;
      this.closed = true;
      this.reportClose();
    });
  }

  start(handler: ConnectionHandler): void {
    this.handler = handler;
    if (this.socketClosed) {
      this.reportClose();
      return;
    }
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
  }

  onFrame(header: FrameHeader, body: Uint8Array): void {
    this.handler!.onFrame(header, body);
  }

  send(header: OutgoingHeader, body: Uint8Array, metadataBlock?: Uint8Array): void {
    if (this.closed) return;
    this.outbox.append(header, body, metadataBlock);
    if (!this.flushPending) {
      this.flushPending = true;
      process.nextTick(this.flushNow);
    }
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.parser.halt();
    this.socket.end();
  }

  destroy(error?: Error): void {
    if (error !== undefined) this.closeError ??= error;
    this.closed = true;
    this.parser.halt();
    this.socket.destroy();
  }

  limitReceive(maxBodyBytes: number | undefined, reason?: string): void {
    if (maxBodyBytes === undefined) this.parser.setMaxBodyBytes(this.maxBodyBytes);
    else this.parser.setMaxBodyBytes(Math.min(maxBodyBytes, this.maxBodyBytes), reason);
  }

  setRef(ref: boolean): void {
    if (ref) this.socket.ref();
    else this.socket.unref();
  }

  private receive(chunk: Buffer): void {
    this.receivedAt = Date.now();
    try {
      this.parser.push(chunk);
    } catch (error) {
      // Broken framing (ProtocolError), or a handler that broke its no-throw contract: either
      // way this connection cannot go on, and no other connection is affected.
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private flush(): void {
    this.flushPending = false;
    if (this.closed) return;
    const data = this.outbox.take();
    if (data === undefined) return;
    if (data instanceof Uint8Array) {
      this.socket.write(data);
    } else {
      this.socket.cork();
      for (const part of data) this.socket.write(part);
      this.socket.uncork();
    }
    // Nothing left in the stream's buffer: the kernel took the bytes during write() (a write that
    // must wait keeps its buffer queued and counted here), so the outbox may reuse its slab.
    if (this.socket.writableLength === 0) this.outbox.recycle();
  }

  private reportClose(): void {
    if (this.closeReported || this.handler === undefined) return;
    this.closeReported = true;
    this.handler.onClose(this.closeError);
  }
}
