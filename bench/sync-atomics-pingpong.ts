/**
 * Reference for blocking calls: the bare cost of one round trip between two threads that sleep
 * in Atomics.wait and wake each other with Atomics.notify (no MessagePort, no sockets).
 * A blocking msf call pays this plus a MessagePort post each way plus the async call itself.
 *
 *   node --import tsx bench/sync-atomics-pingpong.ts [rounds]
 */
import { Worker } from "node:worker_threads";

const rounds = Number(process.argv[2] ?? 20_000);
const shared = new Int32Array(new SharedArrayBuffer(8));
// cell 0: the ball, odd = worker's turn, even = main's turn.
const worker = new Worker(
  `
  const { workerData } = require("node:worker_threads");
  const shared = workerData;
  for (let expect = 1; ; expect += 2) {
    while (Atomics.load(shared, 0) < expect) Atomics.wait(shared, 0, expect - 1);
    if (Atomics.load(shared, 1) === 1) break;
    Atomics.store(shared, 0, expect + 1);
    Atomics.notify(shared, 0);
  }
  `,
  { eval: true, workerData: shared },
);

const samples = new Float64Array(rounds);
let ball = 0;
for (let i = 0; i < rounds; i++) {
  const start = performance.now();
  Atomics.store(shared, 0, ++ball);
  Atomics.notify(shared, 0);
  while (Atomics.load(shared, 0) === ball) Atomics.wait(shared, 0, ball);
  ball++;
  samples[i] = performance.now() - start;
}
Atomics.store(shared, 1, 1);
Atomics.store(shared, 0, ++ball);
Atomics.notify(shared, 0);
await worker.terminate();

samples.sort();
const at = (q: number) => (samples[Math.min(rounds - 1, Math.floor(q * rounds))]! * 1000).toFixed(1);
console.log(`atomics ping-pong, ${rounds} round trips: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`);
