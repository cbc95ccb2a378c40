import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The sync_socket native addon (native/sync-socket/sync_socket.c): blocking socket I/O on the
 * calling thread, waiting with poll(2), on descriptors libuv never sees. Every function blocks
 * the calling thread at most for the timeout it is given; a timeout < 0 means no limit. Failures
 * the system reports throw an Error whose `code` is the errno name ("ECONNREFUSED", "EPIPE";
 * "ETIMEDOUT" when a connect timeout passes) and whose `syscall` names the call.
 */
export interface SyncSocketAddon {
  /** Connects a unix stream socket; `path` is sun_path's bytes (a leading 0 byte = abstract name). Returns the fd. */
  connectUnix(path: Uint8Array, timeoutMs: number): number;
  /** Connects to every address `host` resolves to, in order, until one answers; TCP_NODELAY set. Returns the fd. */
  connectTcp(host: string, port: number, timeoutMs: number): number;
  /** Writes all of `bytes`; returns how many were written, fewer only when the timeout passed. */
  write(fd: number, bytes: Uint8Array, timeoutMs: number): number;
  /**
   * Waits for input (timeout 0: not at all) and reads what is there into `buffer` from `offset`:
   * the count, 0 at end of stream, -1 when the time passed with nothing to read.
   */
  read(fd: number, buffer: Uint8Array, offset: number, timeoutMs: number): number;
  close(fd: number): void;

  // Datagram sockets (udp, netlink): one datagram per call. The send functions never wait and
  // never throw for what the system refuses: they return 0, or the errno (EAGAIN, ENOBUFS,
  // ECONNREFUSED, EMSGSIZE), which a datagram layer counts and retransmission covers.

  /** A udp socket connected to the first address `host` resolves to (ECONNREFUSED later once an ICMP port unreachable came). Returns the fd. */
  openUdp(host: string, port: number): number;
  /** A netlink (NETLINK_USERSOCK) socket bound to a port id the kernel picks, connected to `peerPort`; Linux only. */
  openNetlink(peerPort: number, bufferBytes: number): NetlinkOpened;
  sendUdp(fd: number, datagram: Uint8Array): number;
  /** `ownPort` is the socket's own port id (openNetlink's `port`), written in the nlmsghdr. */
  sendNetlink(fd: number, ownPort: number, datagram: Uint8Array): number;
  /**
   * Waits for one datagram (timeout 0: not at all) and copies it to `buffer` from 0: its length,
   * or -1 when the time passed with nothing. Datagrams larger than the buffer are dropped.
   */
  receiveUdp(fd: number, buffer: Uint8Array, timeoutMs: number): number;
  /** As receiveUdp, for the frames `peerPort` sent (the nlmsghdr removed); anything else is dropped. */
  receiveNetlink(fd: number, peerPort: number, buffer: Uint8Array, timeoutMs: number): number;
}

export interface NetlinkOpened {
  readonly fd: number;
  /** The port id bound. */
  readonly port: number;
  /** The send buffer the kernel set: no datagram larger than this less 48 bytes can be sent. */
  readonly sendBufferBytes: number;
}

/** Whether `addon` was built with datagram support (an addon built before it lacks these functions). */
export function hasDatagrams(addon: SyncSocketAddon): boolean {
  return typeof addon.openUdp === "function" && typeof addon.receiveNetlink === "function";
}

/** The addon, or why it cannot be used (it was not built: registry installs skip install scripts). */
export type SyncSocketLoad = { readonly ok: true; readonly addon: SyncSocketAddon } | { readonly ok: false; readonly reason: string };

const ADDON_PATH = join("native", "sync-socket", "build", "Release", "sync_socket.node");

let loaded: SyncSocketLoad | undefined;

/** Loads the addon once per thread; later calls return the same outcome. Never throws. */
export function loadSyncSocket(): SyncSocketLoad {
  loaded ??= load();
  return loaded;
}

function load(): SyncSocketLoad {
  const root = packageRoot(dirname(fileURLToPath(import.meta.url)));
  if (root === undefined) return { ok: false, reason: "the msf package root (a folder with package.json) was not found" };
  const file = join(root, ADDON_PATH);
  if (!existsSync(file)) {
    return { ok: false, reason: `${file} does not exist (build it with: node scripts/build-native.mjs, or npm install in msf)` };
  }
  try {
    return { ok: true, addon: createRequire(import.meta.url)(file) as SyncSocketAddon };
  } catch (error) {
    return { ok: false, reason: `${file} does not load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The nearest folder at or above `start` holding package.json: msf's root, from runtime/client/
 * (sources) as from dist/runtime/client/ (compiled), which sit at different depths.
 */
function packageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
