// Groups: subscriptions with the same topic and group name share the events, each to one member.
import test from "ava";
import { Code } from "msf";
import { createPublisher, DropPolicy, subscribe } from "../../runtime/events/index.js";
import { numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

test("a group of two members shares the events: each once, none twice, both get some", async (t) => {
  const { channel } = await startBus(t);
  const members = [[], []] as number[][];
  const subscriptions = members.map((got) => subscribe(channel(), "jobs.run", { group: "workers", maxBatch: 16 }, (event) => void got.push(numberOf(event.payload))));
  t.teardown(() => Promise.all(subscriptions.map((subscription) => subscription.close())));
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  // A broadcast subscriber next to the group still gets everything.
  const all: number[] = [];
  const watcher = subscribe(channel(), "jobs.run", {}, (event) => void all.push(numberOf(event.payload)));
  t.teardown(() => watcher.close());
  await watcher.ready;

  const publisher = createPublisher(channel(), { maxBatch: 50 });
  const count = 2000;
  for (let index = 0; index < count; index++) void publisher.publish("jobs.run", numbered(index));
  await publisher.flush();
  await waitFor(() => members[0]!.length + members[1]!.length === count && all.length === count, 5000, "all events to arrive");

  const union = [...members[0]!, ...members[1]!].sort((a, b) => a - b);
  t.deepEqual(union, Array.from({ length: count }, (_, index) => index), "every event delivered exactly once in the group");
  t.true(members[0]!.length > 0 && members[1]!.length > 0, `both members got events: ${members[0]!.length} / ${members[1]!.length}`);
  for (const got of members) t.deepEqual(got, [...got].sort((a, b) => a - b), "each member sees the publisher's order");
  t.is(all.length, count);
});

test("events with the same key go to the same member", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const a = await events.subscribe({ topic: "orders", group: "g", queueLimit: 0, dropPolicy: 0 });
  const b = await events.subscribe({ topic: "orders", group: "g", queueLimit: 0, dropPolicy: 0 });
  const keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
  const batch = Array.from({ length: 60 }, (_, index) => ({ topic: "orders", payload: numbered(index), key: keys[index % keys.length]! }));
  await events.publish({ publisherId: "p", firstSeq: 0n, events: batch, resync: false, maxWaitMs: 0 });
  const owner = new Map<string, string>();
  for (const [name, subscription] of [["a", a], ["b", b]] as const) {
    const reply = await events.pull({ subscriptionId: subscription.subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
    let last = -1;
    for (const event of reply.events) {
      t.is(owner.get(event.key) ?? name, name, `key ${event.key} went to one member only`);
      owner.set(event.key, name);
      t.true(numberOf(event.payload) > last, "in publish order");
      last = numberOf(event.payload);
    }
  }
  t.is(owner.size, keys.length);
});

test("a member that leaves hands its queued events to the others; the last one discards", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const a = await events.subscribe({ topic: "t", group: "g", queueLimit: 0, dropPolicy: 0 });
  const b = await events.subscribe({ topic: "t", group: "g", queueLimit: 0, dropPolicy: 0 });
  const batch = Array.from({ length: 10 }, (_, index) => ({ topic: "t", payload: numbered(index), key: "" }));
  await events.publish({ publisherId: "p", firstSeq: 0n, events: batch, resync: false, maxWaitMs: 0 });

  const left = await events.unsubscribe({ subscriptionId: a.subscriptionId });
  t.deepEqual(left, { found: true, requeued: 5, discarded: 0 });
  const reply = await events.pull({ subscriptionId: b.subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(reply.events.map((event) => numberOf(event.payload)).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  await events.publish({ publisherId: "p", firstSeq: 10n, events: batch.slice(0, 3), resync: false, maxWaitMs: 0 });
  t.deepEqual(await events.unsubscribe({ subscriptionId: b.subscriptionId }), { found: true, requeued: 0, discarded: 3 });
  t.deepEqual(await events.unsubscribe({ subscriptionId: b.subscriptionId }), { found: false, requeued: 0, discarded: 0 });
  t.is((await rpcError(t, events.pull({ subscriptionId: a.subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 0 }))).code, Code.NOT_FOUND);
});

test("members of a group must share its drop policy", async (t) => {
  const { client } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  await events.subscribe({ topic: "t", group: "g", queueLimit: 0, dropPolicy: DropPolicy.DROP_POLICY_DROP_OLDEST });
  const joined = await events.subscribe({ topic: "t", group: "g", queueLimit: 0, dropPolicy: DropPolicy.DROP_POLICY_UNSPECIFIED });
  t.is(joined.dropPolicy, DropPolicy.DROP_POLICY_DROP_OLDEST, "an unspecified policy adopts the group's");
  const error = await rpcError(t, events.subscribe({ topic: "t", group: "g", queueLimit: 0, dropPolicy: DropPolicy.DROP_POLICY_BLOCK }));
  t.is(error.code, Code.INVALID_ARGUMENT);
  t.regex(error.message, /group "g" of topic "t" uses drop policy drop_oldest; a member cannot use block/);
});
