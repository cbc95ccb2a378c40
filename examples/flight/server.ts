// Serves flight_service on the addresses given as arguments (default: a unix socket and a tcp port).
//   npx tsx examples/flight/server.ts unix:/tmp/flight.sock tcp://127.0.0.1:7100
// Prints "listening <address>" once per address, then serves until SIGINT/SIGTERM, when it drains.
import { createServer } from "msf";
import { FlightServiceDefinition } from "./gen/flight.server.js";
import { flightServiceHandlers } from "./src/flight_service.impl.js";

const listen = process.argv.slice(2);
const server = createServer({ listen: listen.length > 0 ? listen : ["unix:/tmp/msf-flight.sock", "tcp://127.0.0.1:7100"] });
server.addService(FlightServiceDefinition, flightServiceHandlers);
await server.start();
for (const address of server.addresses) console.log(`listening ${address}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close({ graceMs: 2000 }).then(() => process.exit(0));
  });
}
