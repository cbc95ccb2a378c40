// A raw client for tests that must control the bytes on the wire: connects with node:net, writes
// exactly what it is given, parses what comes back with the runtime's own FrameParser.
import { connect, type Socket } from "node:net";
import { FrameKind, FrameParser, decodeErrorBody, encodeFrame, type FrameHeader, type OutgoingHeader } from "msf/internal";

export interface ReceivedFrame {
  header: FrameHeader;
  body: Uint8Array;
}

export interface RawPeer {
  readonly socket: Socket;
  readonly frames: ReceivedFrame[];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  write(bytes: Uint8Array): void;
  /** Waits for the frame answering `seq` (any kind), at most `timeoutMs`. */
  reply(seq: number, timeoutMs?: number): Promise<ReceivedFrame>;
  destroy(): void;
}

/** `path` for unix sockets, `{ host, port }` for tcp. */
export async function rawPeer(address: string): Promise<RawPeer> {
  const socket = address.startsWith("unix:")
    ? connect({ path: address.slice(5).startsWith("@") ? `\0${address.slice(6)}` : address.slice(5) })
    : connect(tcpOptions(address));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const frames: ReceivedFrame[] = [];
  const waiters: (() => void)[] = [];
  const parser = new FrameParser({
    onFrame(header, body) {
      frames.push({ header: { ...header }, body });
      for (const wake of waiters.splice(0)) wake();
    },
  });
  socket.on("data", (chunk: Buffer) => parser.push(chunk));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    frames,
    closed,
    write: (bytes) => socket.write(bytes),
    async reply(seq, timeoutMs = 5000) {
      const stopAt = Date.now() + timeoutMs;
      for (;;) {
        const found = frames.find((frame) => frame.header.seq === seq);
        if (found !== undefined) return found;
        const left = stopAt - Date.now();
        if (left <= 0) throw new Error(`no reply to seq ${seq} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    destroy: () => socket.destroy(),
  };
}

function tcpOptions(address: string): { host: string; port: number } {
  const match = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (match === null) throw new Error(`not a tcp address: ${address}`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** A REQUEST frame for `method` (id), codec 0, with `body` already encoded. */
export function requestFrame(seq: number, method: number, body: Uint8Array, timeoutMs = 0): Uint8Array {
  const header: OutgoingHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq, method, timeoutMs };
  return encodeFrame(header, body);
}

export function errorText(frame: ReceivedFrame): string {
  return decodeErrorBody(frame.body);
}
