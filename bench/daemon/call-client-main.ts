// A call client process of the daemon benchmark:
// `call-client-main <uri|name|brokered> <target> <in-flight> <warm-up ms> <duration ms>`.
//   uri:      createChannel(<instance endpoint>), msfd out of the path entirely;
//   name:     connectService("flight_service", { config, mode: "direct" }): endpoints from msfd's
//             control API, then straight to the instance;
//   brokered: connectService("flight_service", { config, mode: "brokered" }): every call through
//             msfd's broker, which forwards it to the instance.
// One first call (connecting, resolving) outside the clock, then bench/load-loop.ts's async load
// with the flight workload; prints `window open` when the measurement starts, then
// `result <json>`, and exits.
import { createInterface } from "node:readline";
import { createChannel, type Channel } from "msf";
import { connectService } from "msf/daemon";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { runAsyncLoad } from "../load-loop.js";
import { FLIGHT_REQUEST, isFlightAnswer } from "../workload.js";
import { parseCallClientArgv, RESULT, SERVICE_NAME, WINDOW_OPEN } from "./protocol.js";

/** Beyond warm-up + duration: connecting, the last calls, printing. */
const GRACE_MS = 30_000;
/** A call slower than this fails the measurement. */
const CALL_TIMEOUT_MS = 10_000;

const args = parseCallClientArgv(process.argv.slice(2));
const watchdog = setTimeout(() => {
  process.stderr.write(`daemon bench client (${args.route}): still running ${GRACE_MS} ms after its measurement should have ended\n`);
  process.exit(3);
}, args.warmupMs + args.durationMs + GRACE_MS);
watchdog.unref();
// Exit when the driver goes away (stdin closes), even in the middle of a measurement.
createInterface({ input: process.stdin }).once("close", () => process.exit(2));

async function open(): Promise<Channel> {
  switch (args.route) {
    case "uri":
      return createChannel(args.target, { timeoutMs: CALL_TIMEOUT_MS });
    case "name":
      return connectService(SERVICE_NAME, { config: args.target, mode: "direct", timeoutMs: CALL_TIMEOUT_MS });
    case "brokered":
      return connectService(SERVICE_NAME, { config: args.target, mode: "brokered", timeoutMs: CALL_TIMEOUT_MS });
  }
}

const channel = await open();
const flight = new FlightServiceClient(channel);
const first = await flight.queryFlight(FLIGHT_REQUEST);
if (!isFlightAnswer(first)) throw new Error(`daemon bench client (${args.route}): first reply ${JSON.stringify(first)} is not the flight answer`);
// runAsyncLoad opens its window warmupMs from now: tell the driver (it samples CPU times then).
setTimeout(() => process.stdout.write(`${WINDOW_OPEN}\n`), args.warmupMs);
const result = await runAsyncLoad(
  { call: (request) => flight.queryFlight(request), close: () => channel.close() },
  { inFlight: args.inFlight, warmupMs: args.warmupMs, durationMs: args.durationMs },
);
if (result.calls === 0) throw new Error(`daemon bench client (${args.route}): no call completed within the ${args.durationMs} ms measured`);
process.stdout.write(`${RESULT} ${JSON.stringify(result)}\n`);
await channel.close();
process.exit(0);
