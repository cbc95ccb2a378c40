// A udp socket that speaks msf's datagram layer by hand, for tests that need a peer to misbehave:
// never answer, forge tags, replay datagrams. It builds datagrams with the runtime's own encoders
// (docs/protocol.md, "Datagram transports") and records everything it receives.
import type { ExecutionContext } from "ava";
import { createSocket, type Socket } from "node:dgram";
import type { Session, TagDirection } from "../../runtime/auth/session.js";
import {
  CONTROL_KIND,
  ControlType,
  TRAILER_BYTES,
  decodeConnectBody,
  encodeConnectBody,
  encodeControl,
} from "../../runtime/transport/datagram-frame.js";
import { FrameFlags, type FrameKind, HEADER_BYTES, readU32, writeHeader, writeU32 } from "../../runtime/wire/header.js";

export interface UdpAddress {
  readonly address: string;
  readonly port: number;
}

export interface Received {
  readonly datagram: Uint8Array;
  readonly from: UdpAddress;
  /** Date.now() on arrival. */
  readonly at: number;
  readonly kind: number;
  readonly flags: number;
  readonly seq: number;
  readonly method: number;
  readonly status: number;
  /** The body (without the trailer of a tagged datagram). */
  readonly body: Uint8Array;
}

export interface RawPeerOptions {
  /** Answer every CONNECT with an ACCEPT (a server that opens connections and then says nothing). */
  readonly acceptConnects?: boolean;
}

export class RawDatagramPeer {
  readonly received: Received[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly options: RawPeerOptions,
  ) {
    socket.on("message", (message: Buffer, from) => {
      const datagram = new Uint8Array(message);
      const entry = describe(datagram, from, Date.now());
      this.received.push(entry);
      if (options.acceptConnects && entry.kind === CONTROL_KIND && entry.method === ControlType.CONNECT) {
        const connect = decodeConnectBody(entry.body)!;
        this.send(encodeControl(ControlType.ACCEPT, encodeConnectBody(connect.connectionId, 60_000), false), from);
      }
      for (const waiter of this.waiters) waiter();
    });
  }

  /** A socket on 127.0.0.1, any port; closed when the test ends. */
  static async open(t: ExecutionContext, options: RawPeerOptions = {}): Promise<RawDatagramPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    t.teardown(() => socket.close());
    return new RawDatagramPeer(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** "udp://127.0.0.1:<port>". */
  get uri(): string {
    return `udp://127.0.0.1:${this.port}`;
  }

  send(datagram: Uint8Array, to: UdpAddress): void {
    this.socket.send(datagram, to.port, to.address);
  }

  /** Waits until a received datagram satisfies `match` (seen before or after the call). */
  waitFor(match: (entry: Received) => boolean, timeoutMs = 5000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.received.find(match);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching datagram within ${timeoutMs} ms; received ${this.received.length}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** Opens a connection to the server at `to` by hand: CONNECT, wait for the ACCEPT. */
  async connect(to: UdpAddress, connectionId: Uint8Array): Promise<void> {
    this.send(encodeControl(ControlType.CONNECT, encodeConnectBody(connectionId, 60_000), false), to);
    await this.waitFor((entry) => entry.kind === CONTROL_KIND && entry.method === ControlType.ACCEPT);
  }
}

/** An untagged datagram of `kind` (or a control type when kind is CONTROL_KIND, in `method`). */
export function datagram(kind: FrameKind | number, seq: number, body: Uint8Array, fields: { method?: number; status?: number; timeoutMs?: number } = {}): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(out, 0, kind, 0, 0, fields.status ?? 0, seq, fields.method ?? 0, fields.timeoutMs ?? 0, body.length);
  out.set(body, HEADER_BYTES);
  return out;
}

/**
 * The same frame tagged: FrameFlags.TAGGED set, counter and tag appended, the tag computed with
 * `session` in `direction` (a wrong session or direction gives a wrong tag).
 */
export function tagged(untagged: Uint8Array, session: Session, direction: TagDirection, counter: number): Uint8Array {
  const out = new Uint8Array(untagged.length + TRAILER_BYTES);
  out.set(untagged, 0);
  out[5]! |= FrameFlags.TAGGED;
  const counterAt = untagged.length;
  writeU32(out, counterAt, Math.floor(counter / 0x100000000));
  writeU32(out, counterAt + 4, counter >>> 0);
  out.set(session.tag(direction, out.subarray(0, counterAt + 8)), counterAt + 8);
  return out;
}

/** True when `received` is tagged and its tag verifies under `session` in `direction`. */
export function verifiesUnder(received: Uint8Array, session: Session, direction: TagDirection): boolean {
  if ((received[5]! & FrameFlags.TAGGED) === 0) return false;
  const tagAt = received.length - 16;
  return session.verify(direction, received.subarray(tagAt), received.subarray(0, tagAt));
}

function describe(datagram: Uint8Array, from: UdpAddress, at: number): Received {
  const flags = datagram[5]!;
  const length = readU32(datagram, 20);
  return {
    datagram,
    from: { address: from.address, port: from.port },
    at,
    kind: datagram[3]!,
    flags,
    seq: readU32(datagram, 8),
    method: readU32(datagram, 12),
    status: (datagram[6]! << 8) | datagram[7]!,
    body: datagram.subarray(HEADER_BYTES, HEADER_BYTES + length),
  };
}
