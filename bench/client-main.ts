// A benchmark client process: `client-main <impl> <async|sync> <in-flight> <warm-up ms> <duration ms>`
// (see child-protocol.ts). Reads its target from stdin, makes one first call in the measured mode
// (connecting, and starting whatever blocking calls need, outside the clock), runs the load,
// prints `result <json>` and exits; exits with an error if the load outlives its time by far.
import { createInterface } from "node:readline";
import { parseClientArgv, RESULT } from "./child-protocol.js";
import { loadImplementation } from "./impl/load.js";
import { runAsyncLoad, runSyncLoad, type LoadResult } from "./load-loop.js";
import { FLIGHT_REQUEST, isFlightAnswer } from "./workload.js";

/** Beyond warm-up + duration, time allowed for connecting and for the last calls to return. */
const GRACE_MS = 30_000;

const args = parseClientArgv(process.argv.slice(2));
const watchdog = setTimeout(() => {
  process.stderr.write(`bench client (${args.impl}): still running ${GRACE_MS} ms after its measurement should have ended\n`);
  process.exit(3);
}, args.warmupMs + args.durationMs + GRACE_MS);
watchdog.unref();

const implementation = await loadImplementation(args.impl);
const input = createInterface({ input: process.stdin });
const target = await new Promise<string>((resolve, reject) => {
  input.once("line", (line) => resolve(line.trim()));
  input.once("close", () => reject(new Error("bench client: stdin closed before the target was given")));
});
// Exit when the driver goes away (stdin closes), even in the middle of a measurement.
input.once("close", () => process.exit(2));

const client = await implementation.connect(target);
const first = args.mode === "sync" && client.callSync !== undefined ? client.callSync(FLIGHT_REQUEST) : await client.call(FLIGHT_REQUEST);
if (!isFlightAnswer(first)) throw new Error(`bench client (${args.impl}): first reply ${JSON.stringify(first)} is not the flight answer`);
const plan = { inFlight: args.inFlight, warmupMs: args.warmupMs, durationMs: args.durationMs };
const result: LoadResult = args.mode === "sync" ? runSyncLoad(client, plan) : await runAsyncLoad(client, plan);
if (result.calls === 0) throw new Error(`bench client (${args.impl}): no call completed within the ${args.durationMs} ms measured`);
process.stdout.write(`${RESULT} ${JSON.stringify(result)}\n`);
await client.close();
process.exit(0);
