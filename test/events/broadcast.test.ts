// Broadcast: every subscription whose topic matches gets every event; wildcards; publishLocal.
import test from "ava";
import { Code, createChannel } from "msf";
import { createPublisher, EventsClient, subscribe, type ReceivedEvent } from "../../runtime/events/index.js";
import { numberOf, numbered, rpcError, startBus, waitFor } from "./events-fixtures.js";

test("two subscribers of a topic both get every event, in order", async (t) => {
  const { channel } = await startBus(t);
  const first: number[] = [];
  const second: number[] = [];
  const a = subscribe(channel(), "flight.status", {}, (event) => void first.push(numberOf(event.payload)));
  const b = subscribe(channel(), "flight.status", {}, (event) => void second.push(numberOf(event.payload)));
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.ready, b.ready]);

  const publisher = createPublisher(channel());
  for (let index = 0; index < 500; index++) void publisher.publish("flight.status", numbered(index));
  await publisher.flush();
  await waitFor(() => first.length === 500 && second.length === 500, 5000, "both subscribers to get 500 events");
  const expected = Array.from({ length: 500 }, (_, index) => index);
  t.deepEqual(first, expected);
  t.deepEqual(second, expected);
  t.is(publisher.stats.published, 500);
});

test("an event goes only to matching topics; '*' matches one segment, '>' the rest", async (t) => {
  const { channel, bus } = await startBus(t);
  const seen = new Map<string, string[]>();
  const subscriptions = ["flight.status", "flight.*", "flight.>", "hotel.*", ">"].map((pattern) => {
    seen.set(pattern, []);
    return subscribe(channel(), pattern, {}, (event: ReceivedEvent) => void seen.get(pattern)!.push(event.topic));
  });
  t.teardown(() => Promise.all(subscriptions.map((subscription) => subscription.close())));
  await Promise.all(subscriptions.map((subscription) => subscription.ready));

  const publisher = createPublisher(channel());
  const topics = ["flight.status", "flight.delay.long", "hotel.room", "flight", "car"];
  for (const topic of topics) void publisher.publish(topic, Buffer.from(topic));
  await publisher.flush();
  await waitFor(() => seen.get(">")!.length === topics.length, 5000, "the catch-all subscriber");
  await waitFor(() => bus.stats().subscriptions.every((subscription) => subscription.queued === 0), 5000, "every queue to drain");
  t.deepEqual(seen.get("flight.status"), ["flight.status"]);
  t.deepEqual(seen.get("flight.*"), ["flight.status"]);
  t.deepEqual(seen.get("flight.>"), ["flight.status", "flight.delay.long"]);
  t.deepEqual(seen.get("hotel.*"), ["hotel.room"]);
  t.deepEqual(seen.get(">"), topics);
});

test("an event no subscription matches is counted as unrouted", async (t) => {
  const { client, bus } = await startBus(t);
  const events = client();
  const reply = await events.publish({ publisherId: "p", firstSeq: 0n, events: [{ topic: "nobody.listens", payload: Buffer.from("x"), key: "" }], resync: false, maxWaitMs: 0 });
  t.is(reply.accepted, 1);
  t.is(reply.unrouted, 1);
  t.is(bus.stats().unrouted, 1);
});

test("publishLocal reaches subscribers, beyond a full block-policy queue, without waiting", async (t) => {
  const { client, bus } = await startBus(t);
  const events = client();
  const { subscriptionId } = await events.subscribe({ topic: "msf.>", group: "", queueLimit: 2, dropPolicy: 0 });
  t.is(bus.publishLocal("msf.alert", Buffer.from("one")), 1);
  t.is(bus.publishLocal("msf.service.online", Buffer.from("two")), 1);
  t.is(bus.publishLocal("msf.service.offline", Buffer.from("three")), 1);
  t.is(bus.publishLocal("other.topic", Buffer.from("none")), 0);
  const reply = await events.pull({ subscriptionId, maxEvents: 10, maxBytes: 0, waitMs: 0 });
  t.deepEqual(
    reply.events.map((event) => [event.topic, Buffer.from(event.payload).toString()]),
    [
      ["msf.alert", "one"],
      ["msf.service.online", "two"],
      ["msf.service.offline", "three"],
    ],
  );
  t.is(reply.dropped, 0n);
  t.throws(() => bus.publishLocal("msf.*", Buffer.from("x")), { message: /wildcard/ });
});

test("malformed topics are refused with the topic and the rule", async (t) => {
  const { client, channel } = await startBus(t);
  const events = client();
  const publishError = await rpcError(
    t,
    events.publish({ publisherId: "p", firstSeq: 0n, events: [{ topic: "ok", payload: Buffer.alloc(0), key: "" }, { topic: "bad..topic", payload: Buffer.alloc(0), key: "" }], resync: false, maxWaitMs: 0 }),
  );
  t.is(publishError.code, Code.INVALID_ARGUMENT);
  t.regex(publishError.message, /events\[1\]\.topic: topic "bad\.\.topic" has an empty segment/);
  const subscribeError = await rpcError(t, events.subscribe({ topic: "a.>.b", group: "", queueLimit: 0, dropPolicy: 0 }));
  t.regex(subscribeError.message, /">" may only be the last segment/);
  const publisher = createPublisher(channel());
  t.throws(() => publisher.publish("flight.*", Buffer.alloc(1)), { message: /wildcard "\*"/ });
  t.throws(() => subscribe(channel(), "has space", {}, () => undefined), { message: /segment "has space" may hold only/ });
});

test("clients speaking JSON or msgpack are served too (the CLI's way)", async (t) => {
  const { address, channel } = await startBus(t);
  const got: string[] = [];
  const subscription = subscribe(channel(), "t", {}, (event) => void got.push(Buffer.from(event.payload).toString()));
  t.teardown(() => subscription.close());
  await subscription.ready;
  for (const codec of ["json", "msgpack"] as const) {
    const other = createChannel(address, { codec });
    t.teardown(() => other.close());
    const events = new EventsClient(other);
    const reply = await events.publish({ publisherId: codec, firstSeq: 0n, events: [{ topic: "t", payload: Buffer.from(`via ${codec}`), key: "" }], resync: false, maxWaitMs: 0 });
    t.is(reply.accepted, 1);
    const { subscriptionId } = await events.subscribe({ topic: "t", group: "", queueLimit: 0, dropPolicy: 0 });
    await createPublisher(channel()).publish("t", Buffer.from(`to ${codec}`));
    const pulled = await events.pull({ subscriptionId, maxEvents: 10, maxBytes: 0, waitMs: 1000 });
    t.deepEqual(pulled.events.map((event) => Buffer.from(event.payload).toString()), [`to ${codec}`]);
  }
  await waitFor(() => got.length === 4, 5000, "the four events");
  t.deepEqual(got, ["via json", "to json", "via msgpack", "to msgpack"]);
});
