// Per-publisher order: events reach each subscriber in publish order, across many batches in
// flight; sequence numbers catch gaps and skip retransmitted events.
import test from "ava";
import { Code } from "msf";
import { createPublisher, subscribe } from "../../runtime/events/index.js";
import { numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

test("10,000 events of each of two publishers arrive in each publisher's order", async (t) => {
  const { channel, bus } = await startBus(t, { queueLimit: 256 });
  const count = 10_000;
  const got: number[][] = [[], []];
  const subscription = subscribe(channel(), "seq.*", { maxBatch: 100 }, (event) => {
    got[event.topic === "seq.a" ? 0 : 1]!.push(numberOf(event.payload));
  });
  t.teardown(() => subscription.close());
  await subscription.ready;

  // Small batches and several in flight: order must hold across batches, not just within one.
  const publishers = [createPublisher(channel(), { maxBatch: 64, maxInFlight: 4 }), createPublisher(channel(), { maxBatch: 37, maxInFlight: 3 })];
  const sending = publishers.map(async (publisher, which) => {
    const topic = which === 0 ? "seq.a" : "seq.b";
    for (let index = 0; index < count; index++) {
      void publisher.publish(topic, numbered(index));
      // Yield now and then so the two publishers interleave at the bus.
      if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    await publisher.flush();
  });
  await Promise.all(sending);
  await waitFor(() => got[0]!.length === count && got[1]!.length === count, 10_000, "20,000 events");
  const expected = Array.from({ length: count }, (_, index) => index);
  t.deepEqual(got[0], expected);
  t.deepEqual(got[1], expected);
  t.is(bus.stats().dropped, 0);
  t.true(publishers[0]!.stats.batches >= count / 64);
});

test("a batch that starts after a gap fails FAILED_PRECONDITION and takes nothing; resync continues", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
  const batch = (from: number, count: number) => Array.from({ length: count }, (_, index) => ({ topic: "t", payload: numbered(from + index), key: "" }));

  const first = await events.publish({ publisherId: "p1", firstSeq: 100n, events: batch(100, 3), resync: false, maxWaitMs: 0 });
  t.is(first.nextSeq, 103n, "a first contact may start anywhere");
  const gap = await rpcError(t, events.publish({ publisherId: "p1", firstSeq: 105n, events: batch(105, 2), resync: false, maxWaitMs: 0 }));
  t.is(gap.code, Code.FAILED_PRECONDITION);
  t.regex(gap.message, /publisher "p1": sequence gap: the batch starts at seq 105 but 103 was expected/);
  const resynced = await events.publish({ publisherId: "p1", firstSeq: 105n, events: batch(105, 2), resync: true, maxWaitMs: 0 });
  t.is(resynced.accepted, 2);
  t.is(resynced.nextSeq, 107n);

  const pulled = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(pulled.events.map((event) => numberOf(event.payload)), [100, 101, 102, 105, 106]);
});

test("a retransmitted batch is taken once: the events already accepted are skipped as duplicates", async (t) => {
  const { client, bus } = await startBus(t);
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
  const batch = (from: number, count: number) => Array.from({ length: count }, (_, index) => ({ topic: "t", payload: numbered(from + index), key: "" }));

  await events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 4), resync: false, maxWaitMs: 0 });
  const again = await events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 4), resync: false, maxWaitMs: 0 });
  t.deepEqual({ accepted: again.accepted, duplicates: again.duplicates, nextSeq: again.nextSeq }, { accepted: 0, duplicates: 4, nextSeq: 4n });
  const overlapping = await events.publish({ publisherId: "p", firstSeq: 2n, events: batch(2, 5), resync: false, maxWaitMs: 0 });
  t.deepEqual({ accepted: overlapping.accepted, duplicates: overlapping.duplicates, nextSeq: overlapping.nextSeq }, { accepted: 3, duplicates: 2, nextSeq: 7n });

  const pulled = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(pulled.events.map((event) => numberOf(event.payload)), [0, 1, 2, 3, 4, 5, 6]);
  t.is(bus.stats().duplicates, 6);
});

test("bad Publish requests are refused with what is wrong", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const noId = await rpcError(t, events.publish({ publisherId: "", firstSeq: 0n, events: [], resync: false, maxWaitMs: 0 }));
  t.is(noId.code, Code.INVALID_ARGUMENT);
  t.regex(noId.message, /publisher_id must be 1 to 128 characters, got 0/);
  const huge = await rpcError(t, events.publish({ publisherId: "p", firstSeq: 1n << 60n, events: [], resync: false, maxWaitMs: 0 }));
  t.regex(huge.message, /first_seq 1152921504606846976 is too large/);
});
