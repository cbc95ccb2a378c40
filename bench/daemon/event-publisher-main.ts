// The publisher process of the event benchmark:
// `event-publisher-main <broker> <topic> <payload bytes> <batch> <warm-up ms> <duration ms>`.
// Publishes as fast as msfd takes them (runtime/events createPublisher with maxBatch <batch>, its
// other options default: 4 Publish calls in flight; the block policy holds a Publish until the
// subscriber's queue has room, so the subscriber's pace sets the publisher's), each payload
// carrying its sequence number in its first 4 bytes. Loads its code, then waits for `go` on
// stdin (the driver sends it once the subscriber is subscribed); counts the events msfd accepted
// in the window [go + warm-up, go + warm-up + duration) and keeps publishing until the driver
// writes `stop` (or a time bound passes); then prints `events <json>` and exits.
import { createInterface } from "node:readline";
import { createChannel } from "msf";
import { createPublisher } from "msf/events";
import { EVENTS, GO, parseEventArgv, STOP, type EventRate } from "./protocol.js";

/** Bursts not yet accepted at most (a burst: one full batch, one Publish): the 4 Publish calls in flight and as many sealed, waiting. */
const MAX_PENDING_BURSTS = 8;
/** After the window, publishing goes on until `stop` at most this long. */
const TAIL_MS = 15_000;
const GRACE_MS = 30_000;
const CLOSE_TIMEOUT_MS = 2000;

const args = parseEventArgv("publisher", process.argv.slice(2));
const watchdog = setTimeout(() => fail(`still running ${GRACE_MS} ms after it should have stopped`), args.warmupMs + args.durationMs + TAIL_MS + GRACE_MS);
watchdog.unref();

function fail(message: string): never {
  process.stderr.write(`daemon bench publisher: ${message}\n`);
  process.exit(1);
}

let stopRequested = false;
let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => (go = resolve));
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  const command = line.trim();
  if (command === GO) go();
  else if (command === STOP) stopRequested = true;
});
input.once("close", () => process.exit(2));

const channel = createChannel(args.broker, { timeoutMs: 10_000 });
const publisher = createPublisher(channel, { maxBatch: args.batch });
const burst = args.batch;
const template = Buffer.alloc(args.payloadBytes, "e");
await started;

const start = performance.now();
const measureFrom = start + args.warmupMs;
const endAt = measureFrom + args.durationMs;
const stopAt = endAt + TAIL_MS;
let accepted = 0;
let seq = 0;
const pending: Array<Promise<void>> = [];
const acceptedBurst = (): void => {
  const now = performance.now();
  if (now >= measureFrom && now < endAt) accepted += burst;
};
const failedBurst = (error: unknown): never => fail(`a Publish failed: ${error instanceof Error ? error.message : String(error)}`);

while (!stopRequested && performance.now() < stopAt) {
  let last: Promise<void> | undefined;
  for (let index = 0; index < burst; index++) {
    const payload = Buffer.allocUnsafe(args.payloadBytes);
    template.copy(payload);
    payload.writeUInt32LE(seq, 0);
    seq = (seq + 1) >>> 0;
    last = publisher.publish(args.topic, payload);
  }
  pending.push(last!.then(acceptedBurst, failedBurst));
  if (pending.length >= MAX_PENDING_BURSTS) await pending.shift();
}
const seconds = (Math.min(performance.now(), endAt) - measureFrom) / 1000;
const rate: EventRate = { events: accepted, seconds, eventsPerSecond: seconds > 0 ? accepted / seconds : 0 };
process.stdout.write(`${EVENTS} ${JSON.stringify(rate)}\n`);
const bound = setTimeout(() => process.exit(0), CLOSE_TIMEOUT_MS);
void publisher
  .close()
  .catch(() => undefined)
  .then(() => channel.close())
  .finally(() => {
    clearTimeout(bound);
    process.exit(0);
  });
