// The four transports the security tests run on, each with a listen address for a fresh server
// and, for the datagram ones, the process-wide counters of dropped datagrams.
import type { ExecutionContext } from "ava";
import { join } from "node:path";
import type { DatagramStats } from "../../../runtime/transport/datagram-stats.js";
import { netlinkTransport } from "../../../runtime/transport/netlink.js";
import { udpTransport } from "../../../runtime/transport/udp.js";
import { tempDir } from "../../helpers/runtime-fixtures.js";

export type TransportKind = "unix" | "tcp" | "udp" | "netlink";

export const transports: readonly TransportKind[] = ["unix", "tcp", "udp", "netlink"];
export const datagramTransports: readonly TransportKind[] = ["udp", "netlink"];

/** A listen address for a new server on `kind` (unix sockets in a temp dir removed with the test). */
export function listenAddress(t: ExecutionContext, kind: TransportKind, label = "sec"): string {
  switch (kind) {
    case "unix":
      return `unix:${join(tempDir(t), `${label}.sock`)}`;
    case "tcp":
      return "tcp://127.0.0.1:0";
    case "udp":
      return "udp://127.0.0.1:0";
    case "netlink":
      return "netlink://0";
  }
}

/** The process-wide counters of a datagram transport (read them in serial tests only). */
export function datagramStats(kind: TransportKind): DatagramStats {
  if (kind === "udp") return udpTransport.stats;
  if (kind === "netlink") return netlinkTransport.stats;
  throw new Error(`${kind} is not a datagram transport`);
}
