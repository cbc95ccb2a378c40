import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import type { Endpoint } from "../transport/transport.js";

/**
 * Whether an endpoint is on this host, for transport selection (endpoint-order.ts).
 *
 * An endpoint without a network host (unix paths, abstract unix names, netlink port ids) is
 * always local. One with a host (tcp, udp, any `scheme://host:port`) is local when the host is
 * a loopback address (127.0.0.0/8, ::1, IPv4-mapped loopback), an unspecified address (0.0.0.0,
 * ::, which Linux connects to this host), one of this host's interface addresses, `localhost`
 * (or a `.localhost` name), or this host's own name. Other names are not resolved (that would
 * make createChannel wait on DNS): they count as remote.
 */
export interface HostIdentity {
  /** Canonical IP addresses of this host's interfaces (IPv6 lower-case, compressed, no zone). */
  readonly addresses: ReadonlySet<string>;
  /** Lower-case names this host answers to, without a trailing dot. */
  readonly names: ReadonlySet<string>;
}

/** This host's interface addresses (os.networkInterfaces()) and name (os.hostname()), read now. */
export function thisHost(): HostIdentity {
  const addresses = new Set<string>();
  let interfaces: ReturnType<typeof networkInterfaces> = {};
  try {
    interfaces = networkInterfaces();
  } catch {
    // Some sandboxes refuse to list interfaces: loopback and unix endpoints are still known local.
  }
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      const canonical = canonicalIp(info.address);
      if (canonical !== undefined) addresses.add(canonical);
    }
  }
  const names = new Set(["localhost"]);
  try {
    names.add(hostname().toLowerCase().replace(/\.$/, ""));
  } catch {
    // Without a host name, only "localhost" names this host.
  }
  return { addresses, names };
}

/** The network host of `endpoint`: its `host` field, else the authority of a `scheme://host:port` URI; undefined when it has none. */
export function endpointHost(endpoint: Endpoint): string | undefined {
  const host = (endpoint as { readonly host?: unknown }).host;
  if (typeof host === "string") return host;
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(\[[^\]]+\]|[^:/[\]@?#\s]+):\d+/.exec(endpoint.uri);
  if (match === null) return undefined;
  const authority = match[1]!;
  return authority.startsWith("[") ? authority.slice(1, -1) : authority;
}

export function isLocalEndpoint(endpoint: Endpoint, host: HostIdentity): boolean {
  const name = endpointHost(endpoint);
  if (name === undefined) return true;
  const ip = canonicalIp(name);
  if (ip === undefined) {
    const lower = name.toLowerCase().replace(/\.$/, "");
    return host.names.has(lower) || lower.endsWith(".localhost");
  }
  return isLoopbackOrUnspecified(ip) || host.addresses.has(ip);
}

/**
 * The canonical text of an IP address (IPv4 dotted quad; IPv6 compressed lower-case without its
 * zone, an IPv4-mapped address as its IPv4 form), or undefined when `text` is not an IP address.
 */
export function canonicalIp(text: string): string | undefined {
  const unzoned = text.replace(/%.*$/, "");
  const family = isIP(unzoned);
  if (family === 4) return unzoned;
  if (family !== 6) return undefined;
  // The WHATWG URL parser canonicalises IPv6 literals (RFC 5952), e.g. 0:0::1 → ::1.
  const compressed = new URL(`http://[${unzoned}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped === null) return compressed;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function isLoopbackOrUnspecified(ip: string): boolean {
  return ip.startsWith("127.") || ip === "0.0.0.0" || ip === "::1" || ip === "::";
}
