import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { resolveAddress } from "../transport/builtin.js";
import type { DatagramOptions } from "../transport/datagram-options.js";
import type { NetlinkEndpoint } from "../transport/netlink.js";
import type { TcpEndpoint } from "../transport/tcp.js";
import type { UdpEndpoint } from "../transport/udp.js";
import type { UnixEndpoint } from "../transport/unix.js";
import type { ChannelOptions } from "./channel-options.js";
import { hasDatagrams, loadSyncSocket, type SyncSocketLoad } from "./sync-native-addon.js";

/**
 * Which engine serves a channel's blocking calls:
 * - "native": the calling thread talks to the socket itself through the sync_socket addon
 *   (sync-native-connection.ts; over udp and netlink with the datagram layer driven on the
 *   calling thread, sync-native-datagram.ts): one thread, no hand-off.
 * - "worker": a worker thread runs an ordinary async channel and the caller sleeps in Atomics.wait
 *   (sync-caller.ts, sync-worker.ts): works for every target and option, costs two thread wake-ups.
 *
 * The choice (chooseSyncImpl) is native when the addon loads, the target is one unix:, tcp://,
 * udp:// or netlink:// address (netlink on Linux), and every option set is one the native path
 * implements; otherwise worker.
 * The environment variable MSF_SYNC_IMPL overrides it: "worker" forces the worker, "native" forces
 * the native path (and fails clearly where it cannot serve); it exists for tests and benchmarks.
 */
export type SyncImpl = "native" | "worker";

/** Where a native connection goes. `uri` is the normalised address (without parameters), for messages. */
export type NativeAddress = StreamAddress | DatagramAddress;

export type StreamAddress =
  | { readonly scheme: "unix"; readonly uri: string; readonly path: Uint8Array }
  | { readonly scheme: "tcp"; readonly uri: string; readonly host: string; readonly port: number };

/** `options`: the address's parameters (maxDatagram, fault injection), as the async transport parses them. */
export type DatagramAddress =
  | { readonly scheme: "udp"; readonly uri: string; readonly host: string; readonly port: number; readonly options: DatagramOptions }
  | { readonly scheme: "netlink"; readonly uri: string; readonly port: number; readonly options: DatagramOptions };

/**
 * Channel options the native path implements. Interceptors: blocking calls are never intercepted.
 * selection, transportPreference: they only order the endpoints of a target that lists several.
 */
const NATIVE_OPTIONS: ReadonlySet<string> = new Set([
  "timeoutMs",
  "codec",
  "maxBodyBytes",
  "connectTimeoutMs",
  "auth",
  "interceptors",
  "selection",
  "transportPreference",
]);

export const SYNC_IMPL_VARIABLE = "MSF_SYNC_IMPL";

/** The engine for blocking calls to `target` with `options` (see SyncImpl). Throws RpcError for a bad MSF_SYNC_IMPL. */
export function chooseSyncImpl(target: string, options: ChannelOptions): SyncImpl {
  const forced = process.env[SYNC_IMPL_VARIABLE];
  if (forced === "worker" || forced === "native") return forced;
  if (forced !== undefined && forced !== "" && forced !== "auto") {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `environment variable ${SYNC_IMPL_VARIABLE} is ${JSON.stringify(forced)}; expected "native", "worker", "auto" or unset`,
    );
  }
  return nativeUnsupported(target, options) === undefined ? "native" : "worker";
}

/** Why the native path cannot serve `target` with `options`, or undefined when it can. */
export function nativeUnsupported(target: string, options: ChannelOptions, load: SyncSocketLoad = loadSyncSocket()): string | undefined {
  if (!load.ok) return `the sync_socket addon is not available: ${load.reason}`;
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !NATIVE_OPTIONS.has(key)) return `channel option ${key} is not supported by native blocking calls`;
  }
  const address = nativeAddress(target, load);
  return typeof address === "string" ? address : undefined;
}

/**
 * The address of a single unix:, tcp://, udp:// or netlink:// target, or why there is none.
 * `load` is the addon (datagram targets need a build with datagram support). Never throws.
 */
export function nativeAddress(target: string, load: SyncSocketLoad = loadSyncSocket()): NativeAddress | string {
  // A comma separates the endpoints of a target that lists several (endpoint-target.ts).
  if (typeof target !== "string" || target.includes(",")) return "the target lists several endpoints; native blocking calls take one";
  let endpoint;
  try {
    endpoint = resolveAddress(target).endpoint;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  switch (endpoint.scheme) {
    case "unix": {
      const unix = endpoint as UnixEndpoint;
      return { scheme: "unix", uri: unix.uri, path: new Uint8Array(Buffer.from(unix.path, "utf8")) };
    }
    case "tcp": {
      const tcp = endpoint as TcpEndpoint;
      if (tcp.port === 0) return `${tcp.uri}: port 0 is only for listening`;
      return { scheme: "tcp", uri: tcp.uri, host: tcp.host, port: tcp.port };
    }
    case "udp":
    case "netlink": {
      const unsupported = datagramUnsupported(endpoint.scheme, load);
      if (unsupported !== undefined) return unsupported;
      if (endpoint.scheme === "udp") {
        const udp = endpoint as UdpEndpoint;
        if (udp.port === 0) return `${udp.uri}: port 0 is only for listening`;
        return { scheme: "udp", uri: withoutQuery(udp.uri), host: udp.host, port: udp.port, options: udp.options };
      }
      const netlink = endpoint as NetlinkEndpoint;
      if (netlink.port === 0) return `${netlink.uri}: port id 0 is only for listening`;
      return { scheme: "netlink", uri: withoutQuery(netlink.uri), port: netlink.port, options: netlink.options };
    }
    default:
      return `${endpoint.uri} is a ${endpoint.scheme} address; native blocking calls use unix, tcp, udp and netlink only`;
  }
}

function datagramUnsupported(scheme: "udp" | "netlink", load: SyncSocketLoad): string | undefined {
  if (!load.ok) return `the sync_socket addon is not available: ${load.reason}`;
  if (!hasDatagrams(load.addon)) {
    return `the sync_socket addon was built without datagram support (rebuild it: node scripts/build-native.mjs), so ${scheme} is not served natively`;
  }
  if (scheme === "netlink" && process.platform !== "linux") return `netlink sockets exist on Linux only (this is ${process.platform})`;
  return undefined;
}

function withoutQuery(uri: string): string {
  const at = uri.indexOf("?");
  return at < 0 ? uri : uri.slice(0, at);
}
