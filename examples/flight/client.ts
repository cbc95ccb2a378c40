// Calls flight_service at a target, async then blocking, and prints both answers.
//   npx tsx examples/flight/client.ts unix:/tmp/msf-flight.sock [name] [password]
import { createChannel, RpcError } from "msf";
import { FlightServiceClient } from "./gen/flight.client.js";
import type { queryFlightRequest } from "./gen/flight.js";

const [target = "unix:/tmp/msf-flight.sock", name = "bison", password = "123456"] = process.argv.slice(2);
const channel = createChannel(target, { timeoutMs: 1000 });
const client = new FlightServiceClient(channel);
const request: queryFlightRequest = { name, password, departureCity: "sz", destinationCity: "xz" };

try {
  const asyncReply = await client.queryFlight(request, { timeoutMs: 200 });
  console.log("async   ", JSON.stringify(asyncReply));
  const blockingReply = client.queryFlightSync(request, { timeoutMs: 200 });
  console.log("blocking", JSON.stringify(blockingReply));
} catch (error) {
  console.error(error instanceof RpcError ? error.message : error);
  process.exitCode = 1;
} finally {
  await channel.close();
}
