import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatagramSocket, DatagramSocketEvents, PeerNaming } from "./datagram-socket.js";

/** The netlink addon (native/netlink/netlink.c, whose header comment is the contract). */
export interface NetlinkAddon {
  open(
    portId: number,
    maxFrameBytes: number,
    bufferBytes: number,
    onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
    onError: (code: string) => void,
  ): NetlinkHandle;
  /** Sends frames[i] to ports[i] for i < count (≤ 256) in one sendmmsg; results[i] = 0 or the errno; returns how many failed. */
  sendBatch(handle: NetlinkHandle, ports: Uint32Array, frames: Uint8Array[], count: number, results: Int32Array): number;
  ref(handle: NetlinkHandle, ref: boolean): void;
  close(handle: NetlinkHandle): void;
}

export interface NetlinkHandle {
  readonly port: number;
  readonly sendBufferBytes: number;
  readonly receiveBufferBytes: number;
}

/** The addon, or why it cannot be used. */
export type NetlinkLoad = { readonly ok: true; readonly addon: NetlinkAddon } | { readonly ok: false; readonly reason: string };

const ADDON_PATH = join("native", "netlink", "build", "Release", "netlink.node");

let loaded: NetlinkLoad | undefined;
let pathOverride: string | undefined;

/** Loads the addon once per thread; later calls return the same outcome. Never throws. */
export function loadNetlinkAddon(): NetlinkLoad {
  loaded ??= load();
  return loaded;
}

/**
 * Internal, for tests: load the addon from `file` instead of the built one (a path that does not
 * exist shows what a user without the build sees), or from the usual place again with undefined.
 * Forgets the outcome of earlier loads. Sockets already open are not affected.
 */
export function setNetlinkAddonPath(file: string | undefined): void {
  pathOverride = file;
  loaded = undefined;
}

function load(): NetlinkLoad {
  if (process.platform !== "linux") {
    return { ok: false, reason: `netlink sockets exist on Linux only (this is ${process.platform})` };
  }
  let file = pathOverride;
  if (file === undefined) {
    const root = packageRoot(dirname(fileURLToPath(import.meta.url)));
    if (root === undefined) return { ok: false, reason: "the msf package root (a folder with package.json) was not found" };
    file = join(root, ADDON_PATH);
  }
  if (!existsSync(file)) {
    return {
      ok: false,
      reason: `native addon native/netlink not built: ${file} does not exist ` +
        "(run npm rebuild msf, or approve msf's install scripts; in a clone: node scripts/build-native.mjs)",
    };
  }
  try {
    return { ok: true, addon: createRequire(import.meta.url)(file) as NetlinkAddon };
  } catch (error) {
    return { ok: false, reason: `native addon ${file} does not load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The nearest folder at or above `start` holding package.json: msf's root, from runtime/transport/
 * (sources) as from dist/runtime/transport/ (compiled), which sit at different depths.
 */
function packageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** "netlink://4242". */
export function formatNetlink(port: number): string {
  return `netlink://${port}`;
}

export const netlinkNaming: PeerNaming<number> = {
  key: (port) => port,
  uri: formatNetlink,
};

/** Socket buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max and doubles them). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Most messages one sendBatch call takes (the addon's MAX_BATCH). */
const MAX_SEND_BATCH = 256;
const ECONNREFUSED = osConstants.errno.ECONNREFUSED;

/**
 * A NETLINK_USERSOCK socket behind the DatagramSocket contract; peers are port ids. The addon
 * reads every datagram waiting when the socket turns readable and hands them over in one call.
 * Datagrams sent during one tick leave together in one sendmmsg(2), flushed from
 * process.nextTick (as a stream connection batches its writes): the replies to a batch of
 * requests cost one system call and wake the peer once, not once each.
 */
export class NetlinkSocket implements DatagramSocket<number> {
  private closed = false;
  private handle!: NetlinkHandle;
  private readonly queued: Uint8Array[] = [];
  private readonly queuedPorts = new Uint32Array(MAX_SEND_BATCH);
  private readonly results = new Int32Array(MAX_SEND_BATCH);
  private flushPending = false;
  private readonly flushNow = (): void => this.flush();

  private constructor(
    private readonly addon: NetlinkAddon,
    private readonly events: DatagramSocketEvents<number>,
  ) {}

  /**
   * Opens and binds a socket to `port` (0: the kernel picks). A client socket gives `connected`:
   * datagrams from any other port id are dropped (as a connected udp socket's kernel would).
   * Throws the system's error (code EADDRINUSE, ...).
   */
  static open(addon: NetlinkAddon, port: number, maxFrameBytes: number, events: DatagramSocketEvents<number>, connected?: number): NetlinkSocket {
    const socket = new NetlinkSocket(addon, events);
    const onBatch = (data: Buffer, meta: Uint32Array, count: number): void => {
      const receivedAt = Date.now();
      const buffer = data.buffer;
      const base = data.byteOffset;
      for (let i = 0; i < count; i++) {
        const from = meta[i * 3]!;
        if (connected !== undefined && from !== connected) continue;
        events.onDatagram(new Uint8Array(buffer, base + meta[i * 3 + 1]!, meta[i * 3 + 2]!), from, receivedAt);
      }
    };
    const onError = (code: string): void => {
      if (!socket.closed && connected !== undefined) {
        events.onUnreachable(new Error(`the netlink socket failed: ${code}`), connected);
      }
    };
    socket.handle = addon.open(port, maxFrameBytes, SOCKET_BUFFER_BYTES, onBatch, onError);
    return socket;
  }

  get port(): number {
    return this.handle.port;
  }

  get sendBufferBytes(): number {
    return this.handle.sendBufferBytes;
  }

  /** Queues `datagram` for this tick's batch. Failures the kernel reports are counted through onSendFailures. */
  send(datagram: Uint8Array, peer: number): boolean {
    if (this.closed) return false;
    const count = this.queued.length;
    this.queuedPorts[count] = peer;
    this.queued.push(datagram);
    if (count + 1 === MAX_SEND_BATCH) {
      this.flush();
    } else if (!this.flushPending) {
      this.flushPending = true;
      process.nextTick(this.flushNow);
    }
    return true;
  }

  setRef(ref: boolean): void {
    if (!this.closed) this.addon.ref(this.handle, ref);
  }

  /** Sends what is queued, then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.close(this.handle);
  }

  private flush(): void {
    this.flushPending = false;
    const count = this.queued.length;
    if (count === 0 || this.closed) {
      this.queued.length = 0;
      return;
    }
    const failed = this.addon.sendBatch(this.handle, this.queuedPorts, this.queued, count, this.results);
    this.queued.length = 0;
    if (failed === 0) return;
    this.events.onSendFailures?.(failed);
    let gone: number | undefined;
    for (let i = 0; i < count; i++) {
      const peer = this.queuedPorts[i]!;
      // No socket is bound to that port id: the peer is gone (reported once per peer and batch).
      if (this.results[i] === ECONNREFUSED && peer !== gone) {
        gone = peer;
        this.events.onUnreachable(new Error(`ECONNREFUSED (no netlink socket is bound to port id ${peer})`), peer);
      }
    }
  }
}
