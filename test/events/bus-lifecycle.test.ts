// What releases a blocked Publish besides a Pull (a new group member, a subscriber that leaves or
// expires, the bus closing), the Stats rpc, and close().
import test from "ava";
import { Code } from "msf";
import { DropPolicy } from "../../runtime/events/index.js";
import { delay, numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

const batch = (from: number, count: number, topic = "t") => Array.from({ length: count }, (_, index) => ({ topic, payload: numbered(from + index), key: "" }));

test("a group whose members are all full blocks the publisher until any member pulls, or a member joins", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  const a = await events.subscribe({ topic: "t", group: "g", queueLimit: 1, dropPolicy: 0 });
  await events.subscribe({ topic: "t", group: "g", queueLimit: 1, dropPolicy: 0 });
  let done = false;
  const publishing = events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 4), resync: false, maxWaitMs: 0 }).then((reply) => {
    done = true;
    return reply;
  });
  await waitFor(() => bus.stats().blockedPublishes === 1, 5000, "the publish to block on the group");
  const pulled = await events.pull({ subscriptionId: a.subscriptionId, maxEvents: 10, maxBytes: 0, waitMs: 0 });
  t.is(pulled.events.length, 1);
  await waitFor(() => bus.stats().subscriptions.every((subscription) => subscription.queued === 1), 5000, "the freed room to be used");
  t.false(done, "one event is still waiting for room");
  await events.subscribe({ topic: "t", group: "g", queueLimit: 1, dropPolicy: 0 });
  t.is((await publishing).accepted, 4, "a new member is room too");
  t.is(bus.stats().blockedPublishes, 0);
});

test("a subscriber that never pulls holds a block-policy publisher only until its subscription expires", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "block", subscriptionExpiryMs: 200 });
  const events = client();
  await events.subscribe({ topic: "t", group: "", queueLimit: 2, dropPolicy: 0 });
  const started = Date.now();
  const reply = await events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 5), resync: false, maxWaitMs: 0 });
  t.true(Date.now() - started >= 150, "it was held back for a while");
  t.is(reply.accepted, 5);
  t.is(bus.stats().subscriptions.length, 0);
});

test("unsubscribing releases a publish blocked on that queue; the others keep every event", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  const stuck = await events.subscribe({ topic: "t", group: "", queueLimit: 1, dropPolicy: 0 });
  const roomy = await events.subscribe({ topic: "t", group: "", queueLimit: 100, dropPolicy: 0 });
  const publishing = events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 6), resync: false, maxWaitMs: 0 });
  await waitFor(() => bus.stats().blockedPublishes === 1, 5000, "the publish to block");
  t.deepEqual(await events.unsubscribe({ subscriptionId: stuck.subscriptionId }), { found: true, requeued: 0, discarded: 1 });
  t.is((await publishing).accepted, 6);
  const pulled = await events.pull({ subscriptionId: roomy.subscriptionId, maxEvents: 100, maxBytes: 0, waitMs: 0 });
  t.deepEqual(pulled.events.map((event) => numberOf(event.payload)), [0, 1, 2, 3, 4, 5]);
});

test("Pull's max_events and max_bytes bound a reply; at least one event always comes", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
  await events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 10).map((event) => ({ ...event, payload: numbered(numberOf(event.payload), 100) })), resync: false, maxWaitMs: 0 });
  const three = await events.pull({ subscriptionId, maxEvents: 3, maxBytes: 0, waitMs: 0 });
  t.deepEqual(three.events.map((event) => numberOf(event.payload)), [0, 1, 2]);
  t.is(three.queued, 7);
  const byBytes = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 250, waitMs: 0 });
  t.deepEqual(byBytes.events.map((event) => numberOf(event.payload)), [3, 4]);
  const one = await events.pull({ subscriptionId, maxEvents: 100, maxBytes: 1, waitMs: 0 });
  t.deepEqual(one.events.map((event) => numberOf(event.payload)), [5]);
});

test("the Stats rpc reports the bus and each subscription", async (t) => {
  const { client } = await startBus(t, { queueLimit: 50, dropPolicy: "drop_newest" });
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t.*", group: "g", queueLimit: 2, dropPolicy: 0 });
  await events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 3, "t.x"), resync: false, maxWaitMs: 0 });
  await events.pull({ subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 0 });
  const stats = await events.stats({});
  t.like(stats, {
    publishers: 1,
    published: 3n,
    delivered: 1n,
    dropped: 1n,
    unrouted: 0n,
    duplicates: 0n,
    blockedPublishes: 0,
    queueLimit: 50,
    dropPolicy: DropPolicy.DROP_POLICY_DROP_NEWEST,
  });
  t.is(stats.subscriptions.length, 1);
  t.like(stats.subscriptions[0], {
    subscriptionId,
    topic: "t.*",
    group: "g",
    queued: 1,
    queueLimit: 2,
    dropPolicy: DropPolicy.DROP_POLICY_DROP_NEWEST,
    delivered: 1n,
    dropped: 1n,
    blockedPublishes: 0,
  });
});

test("close() fails waiting Pulls and blocked Publishes with UNAVAILABLE, and every later call", async (t) => {
  const { client, bus } = await startBus(t, { dropPolicy: "block" });
  const events = client();
  const a = await events.subscribe({ topic: "a", group: "", queueLimit: 1, dropPolicy: 0 });
  const b = await events.subscribe({ topic: "b", group: "", queueLimit: 1, dropPolicy: 0 });
  const pulling = events.pull({ subscriptionId: b.subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 10_000 });
  const publishing = events.publish({ publisherId: "p", firstSeq: 0n, events: batch(0, 3, "a"), resync: false, maxWaitMs: 0 });
  await waitFor(() => bus.stats().blockedPublishes === 1 && bus.stats().subscriptions.some((subscription) => subscription.idleMs === 0), 5000, "a blocked publish and a waiting pull");
  await delay(10);
  bus.close();
  for (const call of [pulling, publishing]) {
    const error = await rpcError(t, call);
    t.is(error.code, Code.UNAVAILABLE);
    t.regex(error.message, /the event bus closed/);
  }
  t.is((await rpcError(t, events.pull({ subscriptionId: a.subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 0 }))).code, Code.UNAVAILABLE);
  t.is(bus.publishLocal("a", Buffer.from("x")), 0);
});
