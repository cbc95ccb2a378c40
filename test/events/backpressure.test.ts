// Bounded queues: the block policy holds publishers back (nothing lost), drop policies drop and
// count, and a Publish blocked past its deadline fails and takes nothing more.
import test from "ava";
import { Code } from "msf";
import { createPublisher, DropPolicy, subscribe } from "../../runtime/events/index.js";
import { delay, numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

test("block policy: a slow subscriber holds the publisher back; publish() resolves late and nothing is lost", async (t) => {
  const { channel, bus } = await startBus(t, { dropPolicy: "block" });
  const queueLimit = 8;
  const maxBatch = 4;
  const count = 100;
  const got: number[] = [];
  let sawBlocked = false;
  const subscription = subscribe(channel(), "slow", { queueLimit, maxBatch }, async (event) => {
    if (bus.stats().blockedPublishes > 0) sawBlocked = true;
    await delay(2);
    got.push(numberOf(event.payload));
  });
  t.teardown(() => subscription.close());
  await subscription.ready;

  const publisher = createPublisher(channel(), { maxBatch: 10 });
  let firstResolvedAfter = -1;
  const publishes: Promise<void>[] = [];
  for (let index = 0; index < count; index++) publishes.push(publisher.publish("slow", numbered(index)));
  void publishes[0]!.then(() => (firstResolvedAfter = got.length));
  await publishes[count - 1];
  // The last publish resolved only once its event was queued: everything but one queue and one
  // pulled batch had been handed to the subscriber by then.
  const handed = got.length;
  t.true(handed >= count - queueLimit - maxBatch - 1, `the publisher was held back: ${handed} of ${count} handled when its last publish resolved`);
  t.true(firstResolvedAfter >= 0 && firstResolvedAfter < count / 2, "the first batch resolved long before the last");
  t.true(sawBlocked, "msfd reported a blocked publish while the subscriber was slow");
  await publisher.flush();
  await waitFor(() => got.length === count, 10_000, "every event");
  t.deepEqual(got, Array.from({ length: count }, (_, index) => index));
  t.is(bus.stats().dropped, 0);
  t.is(subscription.stats.dropped, 0);
});

test("block policy: a Publish blocked past its deadline fails DEADLINE_EXCEEDED naming the full queue, and takes nothing more", async (t) => {
  const { client, channel, bus } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  // A subscriber that never pulls.
  const { subscriptionId } = await events.subscribe({ topic: "stuck", group: "", queueLimit: 4, dropPolicy: 0 });
  const publisher = createPublisher(channel(), { timeoutMs: 400, maxBatch: 10 });
  const publishes = Array.from({ length: 10 }, (_, index) => publisher.publish("stuck", numbered(index)));
  const error = await rpcError(t, publishes[9]!);
  t.is(error.code, Code.DEADLINE_EXCEEDED);
  t.regex(error.message, new RegExp(`blocked on subscription ${subscriptionId} \\(topic "stuck", 4 of 4 queued, policy block\\)`));
  t.regex(error.message, /events before seq 4 were taken; seq 4 and the 5 after it were not/);
  await t.throwsAsync(publisher.flush(), { message: /DEADLINE_EXCEEDED/ });
  t.is(bus.stats().blockedPublishes, 0);

  const pulled = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(pulled.events.map((event) => numberOf(event.payload)), [0, 1, 2, 3]);
  // The publisher goes on after the failure (its next batch resyncs past the lost events).
  await publisher.publish("stuck", numbered(100));
  const next = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(next.events.map((event) => numberOf(event.payload)), [100]);
});

test("block policy: batches behind a blocked one wait in order, and go once there is room", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 2, dropPolicy: 0 });
  const batch = (from: number, count: number) => Array.from({ length: count }, (_, index) => ({ topic: "t", payload: numbered(from + index), key: "" }));
  const first = events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 3), resync: false, maxWaitMs: 0 });
  const second = events.publish({ publisherId: "p", firstSeq: 3n, events: batch(3, 2), resync: false, maxWaitMs: 0 });
  let settled = 0;
  void first.then(() => settled++);
  void second.then(() => settled++);
  await waitFor(() => bus.stats().blockedPublishes === 1, 5000, "the first batch to block");
  await delay(30);
  t.is(settled, 0, "neither batch is answered while the queue is full");

  const seen: number[] = [];
  for (let round = 0; round < 10 && seen.length < 5; round++) {
    const reply = await events.pull({ subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 1000 });
    seen.push(...reply.events.map((event) => numberOf(event.payload)));
  }
  t.deepEqual(seen, [0, 1, 2, 3, 4]);
  t.is((await first).accepted, 3);
  t.is((await second).nextSeq, 5n);
});

test("drop_oldest: a full queue drops its oldest events, and the drops are counted in Pull and stats", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "drop_oldest" });
  const events = client();
  const { subscriptionId, dropPolicy } = await events.subscribe({ topic: "t", group: "", queueLimit: 5, dropPolicy: 0 });
  t.is(dropPolicy, DropPolicy.DROP_POLICY_DROP_OLDEST);
  const reply = await events.publish({
    publisherId: "p",
    firstSeq: 0n,
    events: Array.from({ length: 12 }, (_, index) => ({ topic: "t", payload: numbered(index), key: "" })),
    resync: false,
    maxWaitMs: 0,
  });
  t.is(reply.accepted, 12, "the publisher is never held back");
  t.is(reply.dropped, 7);
  const info = bus.stats().subscriptions[0]!;
  t.like(info, { queued: 5, dropped: 7, dropPolicy: "drop_oldest" });
  t.is(bus.stats().dropped, 7);

  const pulled = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(pulled.events.map((event) => numberOf(event.payload)), [7, 8, 9, 10, 11]);
  t.is(pulled.dropped, 7n);
  t.is(pulled.droppedTotal, 7n);
  const again = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.is(again.dropped, 0n, "dropped counts since the previous Pull");
  t.is(again.droppedTotal, 7n);
});

test("drop_newest, asked per subscription: the queue keeps its oldest events; the subscriber's stats count the drops", async (t) => {
  const { channel, bus } = await startBus(t, { dropPolicy: "block" });
  const publisher = createPublisher(channel());
  const got: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const subscription = subscribe(channel(), "t", { queueLimit: 3, maxBatch: 1, dropPolicy: "drop_newest" }, async (event) => {
    got.push(numberOf(event.payload));
    await gate;
  });
  t.teardown(() => subscription.close());
  await subscription.ready;
  void publisher.publish("t", numbered(0));
  await waitFor(() => got.length === 1, 5000, "the first event to be in the subscriber's hands");
  for (let index = 1; index <= 10; index++) void publisher.publish("t", numbered(index));
  await publisher.flush();
  t.is(bus.stats().dropped, 7);
  release();
  await waitFor(() => got.length === 4 && subscription.stats.dropped === 7, 5000, "the queued events and the drop count");
  t.deepEqual(got, [0, 1, 2, 3]);
});
