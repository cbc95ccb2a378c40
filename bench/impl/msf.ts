// msf as users run it: createServer + the generated FlightServiceDefinition on the server,
// createChannel + the generated FlightServiceClient on the client, async and blocking calls.
// Two variants: `msf` (no authentication) and `msfAuth` (CHAP on every connection, docs/auth.md).
import { createChannel, createServer, type ChannelOptions, type ServerOptions } from "msf";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { FlightServiceDefinition } from "../../examples/flight/gen/flight.server.js";
import { answerFlight } from "../workload.js";
import type { BenchClient, BenchServer, Implementation, ServerPlace } from "./implementation.js";

/** Blocking calls wait at most this long; a reply that late fails the measurement. */
const SYNC_TIMEOUT_MS = 5000;

/** The one credential of the msf-auth rows: server and client derive its key once, at creation. */
const AUTH_NAME = "bench";
const AUTH_SECRET = "bench-secret";

/** Netlink port ids below this are left to the kernel's own picks and to other programs. */
const NETLINK_PORT_BASE = 20_000;

export const msf: Implementation = implementation({}, {});

export const msfAuth: Implementation = implementation(
  { auth: { credentials: { [AUTH_NAME]: AUTH_SECRET } } },
  { auth: { name: AUTH_NAME, secret: AUTH_SECRET } },
);

function implementation(serverExtra: Omit<ServerOptions, "listen">, channelOptions: ChannelOptions): Implementation {
  return {
    async startServer(place: ServerPlace): Promise<BenchServer> {
      const server = createServer({ ...serverExtra, listen: [listenAddress(place)] });
      server.addService(FlightServiceDefinition, { queryFlight: answerFlight });
      await server.start();
      const target = server.addresses[0];
      if (target === undefined) throw new Error("msf server started but reports no address");
      return {
        target,
        close: () => server.close(),
      };
    },
    async connect(target: string): Promise<BenchClient> {
      const channel = createChannel(target, channelOptions);
      const client = new FlightServiceClient(channel);
      const syncOptions = { timeoutMs: SYNC_TIMEOUT_MS };
      return {
        call: (request) => client.queryFlight(request),
        callSync: (request) => client.queryFlightSync(request, syncOptions),
        close: () => channel.close(),
      };
    },
  };
}

/**
 * Where the server listens. Netlink: a port id from this server process's pid, so concurrent
 * runs do not collide (two live servers share one only if their pids differ by a multiple of 10 000).
 */
function listenAddress(place: ServerPlace): string {
  switch (place.transport) {
    case "unix":
      return `unix:${place.socketPath}`;
    case "tcp":
      return "tcp://127.0.0.1:0";
    case "udp":
      return "udp://127.0.0.1:0";
    case "netlink":
      return `netlink://${NETLINK_PORT_BASE + (process.pid % 10_000)}`;
  }
}
