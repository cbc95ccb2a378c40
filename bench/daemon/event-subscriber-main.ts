// The subscriber process of the event benchmark:
// `event-subscriber-main <broker> <topic> <payload bytes> <batch> <warm-up ms> <duration ms>`.
// Subscribes through msfd's broker (runtime/events: Subscribe, then long-polled Pulls of up to
// <batch> events: subscribe's maxBatch), prints
// `subscribed <id>` once msfd registered it, and from the first event on counts: the events
// received in the window [first + warm-up, first + warm-up + duration) are the result, printed
// as `events <json>` (and `window open` when the window opens). Every event is checked: its size, and its sequence number (the payload's
// first 4 bytes, little-endian), which must follow the previous one's — with the block policy no
// event may be lost, duplicated or reordered. Exits when done, on a wrong event, or when stdin closes.
import { createInterface } from "node:readline";
import { createChannel } from "msf";
import { subscribe, type ReceivedEvent } from "msf/events";
import { EVENTS, parseEventArgv, SUBSCRIBED, WINDOW_OPEN, type EventRate } from "./protocol.js";

/** Subscribing, the first event, closing: time allowed beyond warm-up + duration. */
const GRACE_MS = 30_000;
const CLOSE_TIMEOUT_MS = 2000;

const args = parseEventArgv("subscriber", process.argv.slice(2));
const watchdog = setTimeout(() => fail(`still running ${GRACE_MS} ms after its measurement should have ended`), args.warmupMs + args.durationMs + GRACE_MS);
watchdog.unref();
createInterface({ input: process.stdin }).once("close", () => process.exit(2));

function fail(message: string): never {
  process.stderr.write(`daemon bench subscriber: ${message}\n`);
  process.exit(1);
}

const channel = createChannel(args.broker, { timeoutMs: 10_000 });
let measureFrom = Number.POSITIVE_INFINITY;
let endAt = Number.POSITIVE_INFINITY;
let counted = 0;
let received = 0;
let nextSeq = -1;
let finished = false;

const onEvent = (event: ReceivedEvent): void => {
  const payload = event.payload;
  if (payload.length !== args.payloadBytes) fail(`event ${received} has ${payload.length} bytes, expected ${args.payloadBytes}`);
  const seq = (payload[0]! | (payload[1]! << 8) | (payload[2]! << 16) | (payload[3]! << 24)) >>> 0;
  if (nextSeq >= 0 && seq !== nextSeq) fail(`event ${received} has sequence number ${seq}, expected ${nextSeq}: lost, duplicated or reordered`);
  nextSeq = (seq + 1) >>> 0;
  received++;
  const now = performance.now();
  if (received === 1) {
    measureFrom = now + args.warmupMs;
    endAt = measureFrom + args.durationMs;
    setTimeout(() => process.stdout.write(`${WINDOW_OPEN}\n`), args.warmupMs);
    setTimeout(finish, endAt - now);
  }
  if (now >= measureFrom && now < endAt) counted++;
};

const subscription = subscribe(channel, args.topic, { maxBatch: args.batch, onError: (error) => fail(`subscription failed: ${String(error)}`) }, onEvent);
await subscription.ready;
process.stdout.write(`${SUBSCRIBED} ${subscription.stats.id ?? "?"}\n`);

function finish(): void {
  if (finished) return;
  finished = true;
  const seconds = args.durationMs / 1000;
  const rate: EventRate = { events: counted, seconds, eventsPerSecond: counted / seconds };
  process.stdout.write(`${EVENTS} ${JSON.stringify(rate)}\n`);
  const bound = setTimeout(() => process.exit(0), CLOSE_TIMEOUT_MS);
  void subscription
    .close()
    .then(() => channel.close())
    .finally(() => {
      clearTimeout(bound);
      process.exit(0);
    });
}
