import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DatagramAddon, type NativeHandle, NativeDatagramSocket } from "./datagram-native-socket.js";
import type { DatagramSocketEvents, PeerNaming } from "./datagram-socket.js";

/** The datagram addon (native/netlink/netlink.c), named for its first use. */
export type NetlinkAddon = DatagramAddon;
export type NetlinkHandle = NativeHandle;

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

/**
 * A NETLINK_USERSOCK socket behind the DatagramSocket contract; peers are port ids. Batched both
 * ways (NativeDatagramSocket).
 */
export class NetlinkSocket extends NativeDatagramSocket<number> {
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

  protected destination(peer: number, index: number): boolean {
    this.queuedPorts[index] = peer;
    return true;
  }

  protected addresses(): undefined {
    return undefined;
  }

  protected refusal(peer: number): Error {
    return new Error(`ECONNREFUSED (no netlink socket is bound to port id ${peer})`);
  }

  protected samePeer(a: number, b: number): boolean {
    return a === b;
  }
}
