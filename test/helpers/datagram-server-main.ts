// A flight server in its own process for the datagram transport tests: serves
// flight.flight_service on the addresses given as arguments, prints "listening <address>" for
// each, then "ready", and runs until killed.
//
// queryFlight counts how often its handler ran per request name and answers
// flightsInfo = "<departureCity>-><destinationCity> for <name>"; two names are special:
//   "__runs__"  answers the counts so far as JSON in flightsInfo (not counted itself);
//   "__big__"   answers a flightsInfo of Number(destinationCity) bytes.
import { createServer } from "msf";
import type { QueryFlightRequest, QueryFlightResponse } from "./flight-messages.js";
import { FlightServiceDefinition } from "./flight-service.js";

const runs = new Map<string, number>();

function queryFlight(request: QueryFlightRequest): QueryFlightResponse {
  if (request.name === "__runs__") return { errcode: 0, errmsg: "", flightsInfo: JSON.stringify(Object.fromEntries(runs)) };
  if (request.name === "__big__") return { errcode: 0, errmsg: "", flightsInfo: "x".repeat(Number(request.destinationCity)) };
  runs.set(request.name, (runs.get(request.name) ?? 0) + 1);
  return { errcode: 0, errmsg: `pid ${process.pid}`, flightsInfo: `${request.departureCity}->${request.destinationCity} for ${request.name}` };
}

const server = createServer({ listen: process.argv.slice(2) });
server.addService(FlightServiceDefinition, { queryFlight });
await server.start();
for (const address of server.addresses) console.log(`listening ${address}`);
console.log("ready");
