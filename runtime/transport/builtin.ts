/**
 * The transports shipped with msf. Importing this module registers them; channels and servers
 * import it, and a new transport is added to the list here (see transport.ts).
 */
import "./unix.js";
import "./tcp.js";
import "./udp.js";
import "./netlink.js";

export { resolveAddress, type ResolvedAddress } from "./registry.js";
