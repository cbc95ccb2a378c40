import { type DatagramAddon, MAX_SEND_BATCH, NativeDatagramSocket, UDP_PREFIX } from "./datagram-native-socket.js";
import type { DatagramSocketEvents } from "./datagram-socket.js";
import type { UdpFamily, UdpPeer } from "./datagram-udp-socket.js";

/**
 * A udp peer as the native socket knows it: besides address and port, `key` (a number for IPv4,
 * so a listener looks a datagram's connection up without building a string) and `raw`, its
 * address as the addon takes it (UDP_PREFIX bytes).
 */
export interface NativeUdpPeer extends UdpPeer {
  readonly key: number | string;
  readonly raw: Uint8Array;
}

/** Peers remembered per socket (so a datagram from a known address allocates nothing); beyond, the memory starts over. */
const MAX_KNOWN_PEERS = 16_384;
/** Socket buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max): 64 calls in flight with large messages must not overflow them. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * A udp socket of the datagram addon (native/netlink/netlink.c): datagrams sent in one tick leave
 * in one sendmmsg(2), and every datagram waiting is handed over in one call, where node:dgram
 * makes a system call, a 64 KiB allocation, an address string and a JavaScript callback per
 * datagram (docs/performance.md, "What mattered"). Same contract as the node:dgram socket
 * (UdpSocket), which remains the fallback when the addon is not built.
 */
export class NativeUdpSocket extends NativeDatagramSocket<UdpPeer> {
  private readonly known = new Map<number | string, NativeUdpPeer>();
  /** Destinations of the queued datagrams (unconnected sockets). */
  private readonly queuedAddresses: Uint8Array | undefined;

  private constructor(
    addon: DatagramAddon,
    events: DatagramSocketEvents<UdpPeer>,
    private readonly family: UdpFamily,
    /** The peer a client socket is connected to; undefined for a server socket. */
    private readonly connected: UdpPeer | undefined,
  ) {
    super(addon, events);
    this.queuedAddresses = connected === undefined ? new Uint8Array(UDP_PREFIX * MAX_SEND_BATCH) : undefined;
  }

  /**
   * A client socket (bound to any address, port 0) connected to `peer` (an IP literal), or a
   * server socket bound to `address`:`port` when `peer` is undefined. Throws the system's error
   * (code EADDRINUSE, ...).
   */
  static open(
    addon: DatagramAddon & Required<Pick<DatagramAddon, "openUdp">>,
    family: UdpFamily,
    address: string,
    port: number,
    peer: UdpPeer | undefined,
    maxFrameBytes: number,
    events: DatagramSocketEvents<UdpPeer>,
  ): NativeUdpSocket {
    const socket = new NativeUdpSocket(addon, events, family, peer);
    const onBatch = (data: Buffer, meta: Uint32Array, count: number): void => {
      const receivedAt = Date.now();
      const buffer = data.buffer;
      const base = data.byteOffset;
      for (let i = 0; i < count; i++) {
        const at = meta[i * 3 + 1]!;
        const from = peer ?? socket.peerAt(data, at - UDP_PREFIX, meta[i * 3]!);
        events.onDatagram(new Uint8Array(buffer, base + at, meta[i * 3 + 2]!), from, receivedAt);
      }
    };
    const onError = (code: string): void => {
      // Only a connected socket learns that nobody listens (an ICMP port unreachable).
      if (socket.closed || peer === undefined) return;
      const reason = code === "ECONNREFUSED" ? "ECONNREFUSED (no socket is bound to that port)" : `${code} (reading the udp socket failed)`;
      events.onUnreachable(Object.assign(new Error(reason), { code }), peer);
    };
    const bindAddress = peer === undefined ? address : family === 6 ? "::" : "0.0.0.0";
    socket.handle = addon.openUdp(bindAddress, peer === undefined ? port : 0, peer?.address ?? "", peer?.port ?? 0, maxFrameBytes, SOCKET_BUFFER_BYTES, onBatch, onError);
    return socket;
  }

  protected destination(peer: UdpPeer, index: number): boolean {
    const addresses = this.queuedAddresses;
    if (addresses === undefined) return true;
    const raw = (peer as Partial<NativeUdpPeer>).raw ?? rawAddress(peer.address, this.family);
    if (raw === undefined) return false;
    addresses.set(raw, index * UDP_PREFIX);
    this.queuedPorts[index] = peer.port;
    return true;
  }

  protected addresses(): Uint8Array | undefined {
    return this.queuedAddresses;
  }

  protected refusal(_peer: UdpPeer): Error {
    return Object.assign(new Error("ECONNREFUSED (no socket is bound to that port)"), { code: "ECONNREFUSED" });
  }

  protected samePeer(a: UdpPeer, b: UdpPeer): boolean {
    return a.port === b.port && a.address === b.address;
  }

  /** The peer whose address is at data[at..at + UDP_PREFIX], sending from `port`: the same object for every datagram of one peer. */
  private peerAt(data: Buffer, at: number, port: number): NativeUdpPeer {
    const key = this.family === 4 ? keyOf4(data, at, port) : `${data.toString("hex", at, at + 20)} ${port}`;
    let peer = this.known.get(key);
    if (peer === undefined) {
      if (this.known.size >= MAX_KNOWN_PEERS) this.known.clear();
      const raw = Uint8Array.from(data.subarray(at, at + UDP_PREFIX));
      peer = { address: formatAddress(raw, this.family), port, key, raw };
      this.known.set(key, peer);
    }
    return peer;
  }
}

/** An IPv4 peer as a number: address × 65536 + port (below 2^48, exact in a double). */
function keyOf4(data: Buffer, at: number, port: number): number {
  return (((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0) * 65536 + port;
}

/** The address text node:dgram would give: dotted IPv4; IPv6 compressed (RFC 5952), with "%scope" when it has one. */
export function formatAddress(raw: Uint8Array, family: UdpFamily): string {
  if (family === 4) return `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((raw[i]! << 8) | raw[i + 1]!);
  let text: string;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    text = `::ffff:${raw[12]}.${raw[13]}.${raw[14]}.${raw[15]}`;
  } else {
    // The longest run of two or more zero groups (the first of equal ones) becomes "::".
    let bestAt = -1;
    let bestLength = 1;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== 0) {
        i++;
        continue;
      }
      let end = i;
      while (end < 8 && groups[end] === 0) end++;
      if (end - i > bestLength) {
        bestAt = i;
        bestLength = end - i;
      }
      i = end;
    }
    const hex = groups.map((group) => group.toString(16));
    text = bestAt < 0 ? hex.join(":") : `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLength).join(":")}`;
  }
  const scope = (raw[16]! | (raw[17]! << 8) | (raw[18]! << 16) | (raw[19]! << 24)) >>> 0;
  return scope === 0 ? text : `${text}%${scope}`;
}

/** The addon's form of an IP literal of `family` (IPv6 with an optional numeric "%scope"); undefined when it is none. */
export function rawAddress(address: string, family: UdpFamily): Uint8Array | undefined {
  const raw = new Uint8Array(UDP_PREFIX);
  if (family === 4) {
    const parts = address.split(".");
    if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return undefined;
    parts.forEach((part, i) => (raw[i] = Number(part)));
    return raw;
  }
  const [text = "", scopeText] = address.split("%");
  let scope = 0;
  if (scopeText !== undefined) {
    if (!/^\d{1,10}$/.test(scopeText)) return undefined;
    scope = Number(scopeText);
  }
  let head = text;
  let tail = "";
  const gap = text.indexOf("::");
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const result: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const four = rawAddress(piece, 4);
        if (four === undefined) return undefined;
        result.push((four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        result.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return result;
  };
  const before = groups(head);
  const after = groups(tail);
  if (before === undefined || after === undefined) return undefined;
  const missing = 8 - before.length - after.length;
  if (gap >= 0 ? missing < 1 : missing !== 0) return undefined;
  const all = [...before, ...new Array<number>(missing).fill(0), ...after];
  all.forEach((group, i) => {
    raw[i * 2] = group >>> 8;
    raw[i * 2 + 1] = group & 0xff;
  });
  new DataView(raw.buffer).setUint32(16, scope, true);
  return raw;
}
