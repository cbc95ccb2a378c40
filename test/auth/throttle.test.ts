import test from "ava";
import {
  AuthFailureReason,
  clientHandshake,
  FailureThrottle,
  serverHandshake,
  type AuthStep,
} from "./helpers/imports.js";
import { aliceAuth, serverAuth } from "./helpers/fixtures.js";
import { ManualClock } from "./helpers/manual-clock.js";

test("no delay for the first 3 failures, then 100 ms doubling, capped at 5 s", (t) => {
  const throttle = new FailureThrottle({ clock: new ManualClock() });
  t.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 1000].map((failures) => throttle.delayFor(failures)),
    [0, 0, 0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000],
  );
});

test("failures are counted per key and forgotten after a quiet period", (t) => {
  const clock = new ManualClock();
  const throttle = new FailureThrottle({ clock, quietMs: 60_000 });
  for (let i = 0; i < 4; i++) throttle.recordFailure("10.0.0.1");
  t.is(throttle.failures("10.0.0.1"), 4);
  t.is(throttle.failures("10.0.0.2"), 0);
  t.deepEqual(throttle.admit("10.0.0.2"), { refused: false, delayMs: 0 });
  t.deepEqual(throttle.admit("10.0.0.1"), { refused: false, delayMs: 200 });
  clock.time += 59_999;
  t.is(throttle.failures("10.0.0.1"), 4);
  clock.time += 1;
  t.is(throttle.failures("10.0.0.1"), 0);
  t.is(throttle.size, 0);
});

test("verdicts of one key are queued: parallel attempts do not multiply the rate, and a long queue is refused", (t) => {
  const clock = new ManualClock();
  const throttle = new FailureThrottle({ clock, maxQueueMs: 10_000 });
  for (let i = 0; i < 20; i++) throttle.recordFailure("k");
  // Ten attempts arriving at the same instant get successive 5 s slots; the third would wait 15 s.
  t.deepEqual(throttle.admit("k"), { refused: false, delayMs: 5000 });
  t.deepEqual(throttle.admit("k"), { refused: false, delayMs: 10_000 });
  t.deepEqual(throttle.admit("k"), { refused: true });
  clock.time += 10_000;
  t.deepEqual(throttle.admit("k"), { refused: false, delayMs: 5000 });
});

test("the number of remembered keys is bounded", (t) => {
  const throttle = new FailureThrottle({ clock: new ManualClock(), maxKeys: 100 });
  for (let i = 0; i < 1000; i++) throttle.recordFailure(`10.0.${i >> 8}.${i & 0xff}`);
  t.is(throttle.size, 100);
  t.is(throttle.failures("10.0.3.231"), 1, "the most recent keys are kept");
  t.is(throttle.failures("10.0.0.0"), 0);
});

test("bad options are refused with the option named", (t) => {
  t.throws(() => new FailureThrottle({ maxDelayMs: -1 }), { message: "throttle option maxDelayMs must be a finite number >= 0, got -1" });
});

/** One guessing attempt against a fresh connection: a wrong key for alice. */
function guess(auth: ReturnType<typeof serverAuth>, peerKey: string, key = "33".repeat(32)): AuthStep | Promise<AuthStep> {
  const server = serverHandshake(auth, { peerKey });
  const answer = clientHandshake(aliceAuth({ key })).receive(server.start()).send!;
  return server.receive(answer);
}

test("handshake verdicts are delayed once a peer has failed 3 times, successes included", async (t) => {
  const clock = new ManualClock();
  const auth = serverAuth({ clock, throttle: {} });
  for (let i = 0; i < 3; i++) {
    const verdict = guess(auth, "10.9.9.9");
    t.false(verdict instanceof Promise, `failure ${i + 1} is answered at once`);
    t.is((await verdict).fail?.reason, AuthFailureReason.WRONG_SECRET);
  }
  // The 4th attempt, though right, waits 100 ms: an early answer would itself be the verdict.
  const server = serverHandshake(auth, { peerKey: "10.9.9.9" });
  const answer = clientHandshake(aliceAuth()).receive(server.start()).send!;
  const pending = server.receive(answer);
  t.true(pending instanceof Promise);
  t.is(server.state, "verifying");
  let delivered: AuthStep | undefined;
  void (pending as Promise<AuthStep>).then((step) => (delivered = step));
  await clock.advance(99);
  t.is(delivered, undefined);
  await clock.advance(1);
  t.is(delivered?.done?.identity, "alice");
  t.is(server.state, "authenticated");
  // Another peer key is not affected.
  t.false(guess(auth, "10.9.9.10") instanceof Promise);
});

test("a stray frame while a throttled verdict waits fails the handshake; the verdict then changes nothing", async (t) => {
  const clock = new ManualClock();
  const auth = serverAuth({ clock, throttle: { freeFailures: 0 } });
  auth.throttle!.recordFailure("p");
  const server = serverHandshake(auth, { peerKey: "p" });
  const answer = clientHandshake(aliceAuth()).receive(server.start()).send!;
  const pending = server.receive(answer) as Promise<AuthStep>;
  t.is(server.unexpectedFrame(1).fail?.reason, AuthFailureReason.UNEXPECTED_FRAME);
  await clock.advance(1000);
  const late = await pending;
  t.is(late.fail?.reason, AuthFailureReason.UNEXPECTED_FRAME);
  t.is(late.send, undefined);
  t.is(late.done, undefined);
  t.is(server.state, "failed");
});

test("measured: an attacker gets 0.2 guesses/s after 20 failures, sequential or parallel", async (t) => {
  const clock = new ManualClock();
  const auth = serverAuth({ clock, throttle: {} });
  const attacker = "203.0.113.7";
  for (let i = 0; i < 20; i++) await settleVerdict(clock, guess(auth, attacker));
  t.is(auth.throttle!.failures(attacker), 20);

  // Sequential: each next guess after the previous verdict.
  const sequentialStart = clock.now();
  const sequential = 10;
  for (let i = 0; i < sequential; i++) {
    const step = await settleVerdict(clock, guess(auth, attacker));
    t.is(step.fail?.reason, AuthFailureReason.WRONG_SECRET);
  }
  const sequentialRate = sequential / ((clock.now() - sequentialStart) / 1000);

  // Parallel: 10 connections at once; the queue admits two (10 s of slots), refuses the rest unchecked.
  const parallelStart = clock.now();
  const verdicts = Array.from({ length: 10 }, () => guess(auth, attacker));
  const times: number[] = [];
  const reasons: string[] = [];
  for (const verdict of verdicts) void Promise.resolve(verdict).then((step) => (times.push(clock.now()), reasons.push(step.fail!.reason)));
  await clock.advance(60_000);
  const checked = reasons.filter((reason) => reason === AuthFailureReason.WRONG_SECRET).length;
  const refused = reasons.filter((reason) => reason === AuthFailureReason.THROTTLED).length;
  const lastChecked = Math.max(...times) - parallelStart;
  const parallelRate = checked / (lastChecked / 1000);

  t.log(`after 20 failures: sequential ${sequentialRate.toFixed(2)} guesses/s; parallel ${parallelRate.toFixed(2)} checked guesses/s (${checked} checked, ${refused} refused unchecked)`);
  t.is(sequentialRate, 0.2);
  t.is(checked, 2);
  t.is(refused, 8);
  t.is(parallelRate, 0.2);
});

/** Awaits a verdict, moving the manual clock so a throttled one is delivered. */
async function settleVerdict(clock: ManualClock, verdict: AuthStep | Promise<AuthStep>): Promise<AuthStep> {
  if (!(verdict instanceof Promise)) return verdict;
  let step: AuthStep | undefined;
  void verdict.then((value) => (step = value));
  for (let i = 0; i < 100 && step === undefined; i++) await clock.advance(100);
  if (step === undefined) throw new Error("the verdict never came");
  return step;
}
