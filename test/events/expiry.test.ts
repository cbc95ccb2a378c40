// Subscriptions not pulled expire; a subscriber that keeps pulling stays; a subscriber whose
// msfd restarted (subscription unknown) subscribes again by itself.
import test from "ava";
import { Code, createServer } from "msf";
import { createPublisher, EventBus, subscribe } from "../../runtime/events/index.js";
import { delay, numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

test("a subscription not pulled for subscriptionExpiryMs is removed; its Pull then fails NOT_FOUND", async (t) => {
  const { client, bus } = await startBus(t, { subscriptionExpiryMs: 100 });
  const events = client();
  const reply = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
  t.is(reply.expireMs, 100);
  t.is(bus.stats().subscriptions.length, 1);
  await waitFor(() => bus.stats().subscriptions.length === 0, 5000, "the subscription to expire");
  const error = await rpcError(t, events.pull({ subscriptionId: reply.subscriptionId, maxEvents: 1, maxBytes: 0, waitMs: 0 }));
  t.is(error.code, Code.NOT_FOUND);
  t.regex(error.message, /no subscription "[0-9a-f-]+": it expired, was unsubscribed, or msfd restarted; subscribe again/);
});

test("a subscriber that keeps pulling outlives many expiry periods with one subscription", async (t) => {
  const { channel, bus } = await startBus(t, { subscriptionExpiryMs: 300 });
  const got: number[] = [];
  const subscription = subscribe(channel(), "t", { waitMs: 5000 }, (event) => void got.push(numberOf(event.payload)));
  t.teardown(() => subscription.close());
  await subscription.ready;
  const id = subscription.stats.id;
  await delay(1500);
  t.is(subscription.stats.id, id);
  t.is(subscription.stats.resubscribes, 0);
  t.is(bus.stats().subscriptions.length, 1);
  const publisher = createPublisher(channel());
  await publisher.publish("t", numbered(7));
  await waitFor(() => got.length === 1, 5000, "the event");
  t.deepEqual(got, [7]);
});

test("a long poll waits for the first event and returns it at once", async (t) => {
  const { client } = await startBus(t);
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
  const started = Date.now();
  const pulling = events.pull({ subscriptionId, maxEvents: 10, maxBytes: 0, waitMs: 5000 });
  await delay(50);
  await events.publish({ publisherId: "p", firstSeq: 0n, events: [{ topic: "t", payload: numbered(1), key: "" }, { topic: "t", payload: numbered(2), key: "" }], resync: false, maxWaitMs: 0 });
  const reply = await pulling;
  t.deepEqual(reply.events.map((event) => numberOf(event.payload)), [1, 2], "the whole published batch in one reply");
  t.true(Date.now() - started < 4000);
  const empty = await events.pull({ subscriptionId, maxEvents: 10, maxBytes: 0, waitMs: 60 });
  t.deepEqual(empty.events, [], "an empty reply when the wait is over");
});

test("after msfd restarts, a subscriber subscribes again by itself and gets new events", async (t) => {
  const first = await startBus(t);
  const got: number[] = [];
  const subscription = subscribe(first.channel(), "t", { waitMs: 200 }, (event) => void got.push(numberOf(event.payload)));
  t.teardown(() => subscription.close());
  await subscription.ready;
  const firstId = subscription.stats.id;
  await first.server.close({ graceMs: 0 });
  first.bus.close();

  // A new bus on the same address: it has never heard of the subscription.
  const bus = new EventBus();
  const server = createServer({ listen: [first.address] });
  server.addService(bus.definition, bus.handlers);
  await server.start();
  t.teardown(async () => {
    await server.close({ graceMs: 0 });
    bus.close();
  });
  await waitFor(() => subscription.stats.id !== undefined && subscription.stats.id !== firstId, 10_000, "the subscriber to subscribe again");
  t.true(subscription.stats.resubscribes >= 1);
  t.is(bus.stats().subscriptions.length, 1);
  const publisher = createPublisher(first.channel());
  await publisher.publish("t", numbered(42));
  await waitFor(() => got.length === 1, 5000, "the event published after the restart");
  t.deepEqual(got, [42]);
});

test("close() cancels the waiting Pull and unsubscribes", async (t) => {
  const { channel, bus } = await startBus(t);
  const subscription = subscribe(channel(), "t", { waitMs: 10_000 }, () => undefined);
  await subscription.ready;
  await waitFor(() => bus.stats().subscriptions[0]?.idleMs === 0, 5000, "a Pull to wait at the bus");
  const started = Date.now();
  await subscription.close();
  t.true(Date.now() - started < 5000, "close() does not wait for the long poll");
  t.is(bus.stats().subscriptions.length, 0);
  await subscription.done;
});

test("an onEvent error ends the subscription (done rejects) unless onError is given", async (t) => {
  const { channel } = await startBus(t);
  const boom = new Error("handler failed");
  const ending = subscribe(channel(), "t", {}, () => {
    throw boom;
  });
  const reported: unknown[] = [];
  const going = subscribe(channel(), "t", { onError: (error) => reported.push(error) }, () => {
    throw boom;
  });
  t.teardown(() => Promise.all([ending.close(), going.close()]));
  await Promise.all([ending.ready, going.ready]);
  const publisher = createPublisher(channel());
  void publisher.publish("t", numbered(1));
  void publisher.publish("t", numbered(2));
  await publisher.flush();
  t.is(await t.throwsAsync(ending.done), boom);
  await waitFor(() => reported.length === 2, 5000, "both errors reported");
  t.deepEqual(reported, [boom, boom]);
});
