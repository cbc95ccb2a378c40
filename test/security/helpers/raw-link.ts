// A hostile peer on any transport: it writes exactly the frames a test gives it (no handshake of
// its own, no retransmission), and records the frames the server sends back. Over unix and tcp it
// is a plain socket whose bytes the runtime's FrameParser reads; over udp and netlink it speaks
// the datagram layer by hand (docs/protocol.md, "Datagram transports"): CONNECT/ACCEPT to open,
// tagged datagrams once a test binds a session, CLOSE and RESET from the server taken as the
// close. Reuses test/helpers/raw-peer.ts (streams) and the datagram encoders of
// test/helpers/datagram-raw-peer.ts.
import type { ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { encodeFrame, FrameFlags, HEADER_BYTES, readU32, type FrameHeader, type OutgoingHeader } from "msf/internal";
import type { Session } from "../../../runtime/auth/session.js";
import { loadNetlinkAddon, NetlinkSocket } from "../../../runtime/transport/datagram-netlink-socket.js";
import { CONTROL_KIND, ControlType, encodeConnectBody, encodeControl } from "../../../runtime/transport/datagram-frame.js";
import { datagram, tagged } from "../../helpers/datagram-raw-peer.js";
import { rawPeer } from "../../helpers/raw-peer.js";

export interface LinkFrame {
  readonly header: FrameHeader;
  readonly body: Uint8Array;
  /** Datagram transports: the datagram as received (trailer included). */
  readonly datagram?: Uint8Array;
}

export interface RawLink {
  /** The server's address this link talks to. */
  readonly target: string;
  /** Frames from the server, in arrival order (datagram control frames and AUTH copies excluded). */
  readonly frames: LinkFrame[];
  /** Resolves when the server closed the link (stream: the socket closed; datagram: CLOSE or RESET received). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Sends one frame (untagged on a datagram link until bindSession). */
  send(header: OutgoingHeader, body: Uint8Array): void;
  /** Sends bytes as they are: a stream chunk, or one whole datagram. */
  sendRaw(bytes: Uint8Array): void;
  /** Datagram links: from now on every frame sent is tagged with `session` (client direction), counters from 1. */
  bindSession(session: Session): void;
  /** Datagram links: every datagram this link sent, as sent (for replays). */
  readonly sent: Uint8Array[];
  /** Datagram links: every datagram received (copies and control frames included), with Date.now() on arrival. */
  readonly received: { readonly datagram: Uint8Array; readonly at: number }[];
  /** Waits until a frame satisfying `match` has arrived (before or after the call). */
  waitFor(match: (frame: LinkFrame) => boolean, timeoutMs?: number, what?: string): Promise<LinkFrame>;
  destroy(): void;
}

export interface RawLinkOptions {
  /**
   * Datagram links: open a connection first (CONNECT, wait for ACCEPT). Default true; false gives
   * a socket the server has never heard of, whose datagrams belong to no connection.
   */
  readonly connect?: boolean;
}

/** Opens a raw link to `target` (unix:, tcp://, udp://, netlink://); destroyed when the test ends. */
export async function rawLink(t: ExecutionContext, target: string, options: RawLinkOptions = {}): Promise<RawLink> {
  const datagrams = target.startsWith("udp:") || target.startsWith("netlink:");
  const link = datagrams ? await datagramLink(target, options.connect ?? true) : await streamLink(target);
  t.teardown(() => link.destroy());
  return link;
}

class Waiters {
  private readonly wakers = new Set<() => void>();

  wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  async until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const stopAt = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const left = stopAt - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wakers.add(done);
      });
    }
  }
}

async function streamLink(target: string): Promise<RawLink> {
  const peer = await rawPeer(target);
  const waiters = new Waiters();
  let isClosed = false;
  const closed = peer.closed.then(() => {
    isClosed = true;
    waiters.wake();
  });
  // rawPeer's own listener (installed first) has parsed the chunk into peer.frames by now.
  peer.socket.on("data", () => waiters.wake());
  return {
    target,
    frames: peer.frames,
    closed,
    get isClosed() {
      return isClosed;
    },
    sent: [],
    received: [],
    send: (header, body) => peer.write(encodeFrame(header, body)),
    sendRaw: (bytes) => peer.write(bytes),
    bindSession: () => undefined,
    waitFor: (match, timeoutMs = 5000, what = "a frame") => waiters.until(() => peer.frames.find(match), timeoutMs, what),
    destroy: () => peer.destroy(),
  };
}

interface DatagramPort {
  send(bytes: Uint8Array): void;
  close(): void;
}

async function datagramLink(target: string, connect: boolean): Promise<RawLink> {
  const frames: LinkFrame[] = [];
  const sent: Uint8Array[] = [];
  const received: { datagram: Uint8Array; at: number }[] = [];
  const waiters = new Waiters();
  const authBodies: string[] = [];
  let accepted = false;
  let isClosed = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  let session: Session | undefined;
  let counter = 0;

  const onDatagram = (bytes: Uint8Array): void => {
    received.push({ datagram: bytes, at: Date.now() });
    if (bytes.length < HEADER_BYTES) return;
    const flags = bytes[5]!;
    const length = readU32(bytes, 20);
    const header: FrameHeader = {
      kind: bytes[3]!,
      codec: bytes[4]!,
      flags,
      status: (bytes[6]! << 8) | bytes[7]!,
      seq: readU32(bytes, 8),
      method: readU32(bytes, 12),
      timeoutMs: readU32(bytes, 16),
      length,
    };
    const body = bytes.slice(HEADER_BYTES, HEADER_BYTES + length);
    if (header.kind === CONTROL_KIND) {
      if (header.method === ControlType.ACCEPT) accepted = true;
      if (header.method === ControlType.CLOSE || header.method === ControlType.RESET) {
        isClosed = true;
        markClosed();
      }
      waiters.wake();
      return;
    }
    if (header.kind === 7) {
      // The server resends its last AUTH frame until answered: keep one of each.
      const key = Buffer.from(body).toString("hex");
      if (authBodies.includes(key)) return;
      authBodies.push(key);
    }
    frames.push({ header, body, datagram: bytes });
    waiters.wake();
  };

  const port = target.startsWith("udp:") ? await udpPort(target, onDatagram) : netlinkPort(target, onDatagram);
  const transmit = (bytes: Uint8Array): void => {
    sent.push(bytes);
    port.send(bytes);
  };
  if (connect) {
    transmit(encodeControl(ControlType.CONNECT, encodeConnectBody(new Uint8Array(randomBytes(8)), 60_000), false));
    await waiters.until(() => (accepted ? true : undefined), 5000, `ACCEPT from ${target}`);
  }

  return {
    target,
    frames,
    closed,
    get isClosed() {
      return isClosed;
    },
    sent,
    received,
    send(header, body) {
      const plain = datagram(header.kind, header.seq, body, { method: header.method, status: header.status, timeoutMs: header.timeoutMs });
      plain[4] = header.codec;
      plain[5] = header.flags & ~FrameFlags.TAGGED;
      transmit(session === undefined ? plain : tagged(plain, session, "client-to-server", ++counter));
    },
    sendRaw: transmit,
    bindSession(bound) {
      session = bound;
    },
    waitFor: (match, timeoutMs = 5000, what = "a frame") => waiters.until(() => frames.find(match), timeoutMs, what),
    destroy: () => port.close(),
  };
}

async function udpPort(target: string, onDatagram: (bytes: Uint8Array) => void): Promise<DatagramPort> {
  const match = /^udp:\/\/\[?([^\]]+?)\]?:(\d+)/.exec(target);
  if (match === null) throw new Error(`not a udp address: ${target}`);
  const host = match[1]!;
  const port = Number(match[2]);
  const socket: UdpSocket = createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  socket.on("message", (message: Buffer) => onDatagram(new Uint8Array(message)));
  socket.on("error", () => undefined);
  let open = true;
  return {
    send: (bytes) => {
      if (open) socket.send(bytes, port, host);
    },
    close: () => {
      if (!open) return;
      open = false;
      socket.close();
    },
  };
}

function netlinkPort(target: string, onDatagram: (bytes: Uint8Array) => void): DatagramPort {
  const load = loadNetlinkAddon();
  if (!load.ok) throw new Error(`netlink unavailable: ${load.reason}`);
  const serverPort = Number(/^netlink:\/\/(\d+)/.exec(target)?.[1]);
  const socket = NetlinkSocket.open(load.addon, 0, 65_536, {
    onDatagram: (bytes, from) => {
      if (from === serverPort) onDatagram(Uint8Array.from(bytes));
    },
    onUnreachable: () => undefined,
  });
  let open = true;
  return {
    send: (bytes) => {
      if (open) socket.send(bytes, serverPort);
    },
    close: () => {
      if (!open) return;
      open = false;
      socket.close();
    },
  };
}

