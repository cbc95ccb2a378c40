// msf as users run it: createServer + the generated FlightServiceDefinition on the server,
// createChannel + the generated FlightServiceClient on the client, async and blocking calls.
import { createChannel, createServer } from "msf";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { FlightServiceDefinition } from "../../examples/flight/gen/flight.server.js";
import { answerFlight } from "../workload.js";
import type { BenchClient, BenchServer, Implementation, ServerPlace } from "./implementation.js";

/** Blocking calls wait at most this long; a reply that late fails the measurement. */
const SYNC_TIMEOUT_MS = 5000;

export const msf: Implementation = {
  startServer,
  connect: connectClient,
};

async function startServer(place: ServerPlace): Promise<BenchServer> {
  const server = createServer({ listen: [place.transport === "unix" ? `unix:${place.socketPath}` : "tcp://127.0.0.1:0"] });
  server.addService(FlightServiceDefinition, { queryFlight: answerFlight });
  await server.start();
  const target = server.addresses[0];
  if (target === undefined) throw new Error("msf server started but reports no address");
  return {
    target,
    close: () => server.close(),
  };
}

async function connectClient(target: string): Promise<BenchClient> {
  const channel = createChannel(target);
  const client = new FlightServiceClient(channel);
  const syncOptions = { timeoutMs: SYNC_TIMEOUT_MS };
  return {
    call: (request) => client.queryFlight(request),
    callSync: (request) => client.queryFlightSync(request, syncOptions),
    close: () => channel.close(),
  };
}
