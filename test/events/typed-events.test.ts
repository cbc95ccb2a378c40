// Typed events: a topic paired with a generated message type, encoded and decoded on both sides.
import test from "ava";
import { Code, RpcError } from "msf";
import {
  ALERT,
  AlertEvent,
  createPublisher,
  defineTopic,
  publishLocalMessage,
  publishMessage,
  SERVICE_OFFLINE,
  SERVICE_ONLINE,
  ServiceStatusEvent,
  subscribeMessages,
} from "../../runtime/events/index.js";
import { queryFlightResponse } from "../../examples/flight/gen/flight.js";
import { startBus, waitFor } from "./events-fixtures.js";

test("a message published on a typed topic arrives decoded, field for field", async (t) => {
  const { channel } = await startBus(t);
  const FlightStatus = defineTopic("flight.status", queryFlightResponse);
  const got: queryFlightResponse[] = [];
  const keys: string[] = [];
  const subscription = subscribeMessages(channel(), FlightStatus, {}, (message, event) => {
    got.push(message);
    keys.push(event.key);
  });
  t.teardown(() => subscription.close());
  await subscription.ready;

  const publisher = createPublisher(channel());
  const sent: queryFlightResponse[] = [
    { errcode: 0, errmsg: "", flightsInfo: "MU5100 PEK-SHA 08:00" },
    { errcode: 404, errmsg: "no such flight: ü ✈", flightsInfo: "" },
  ];
  void publishMessage(publisher, FlightStatus, sent[0]!, "MU5100");
  void publishMessage(publisher, FlightStatus, sent[1]!);
  await publisher.flush();
  await waitFor(() => got.length === 2, 5000, "both messages");
  t.deepEqual(got, sent);
  t.deepEqual(keys, ["MU5100", ""]);
});

test("msfd's own events: publishLocalMessage of ServiceStatusEvent and AlertEvent, received decoded", async (t) => {
  const { channel, bus } = await startBus(t);
  const status: ServiceStatusEvent[] = [];
  const alerts: AlertEvent[] = [];
  const online = subscribeMessages(channel(), SERVICE_ONLINE, {}, (message) => void status.push(message));
  const offline = subscribeMessages(channel(), SERVICE_OFFLINE, {}, (message) => void status.push(message));
  const alert = subscribeMessages(channel(), ALERT, {}, (message) => void alerts.push(message));
  t.teardown(() => Promise.all([online.close(), offline.close(), alert.close()]));
  await Promise.all([online.ready, offline.ready, alert.ready]);

  const at = new Date("2026-11-23T17:00:00.123Z");
  const up: ServiceStatusEvent = {
    service: "flight_service",
    instance: "flight_service#0.1",
    index: 0,
    generation: 1,
    endpoint: "unix:/run/msf/flight_service.0.1.sock",
    pid: 4242,
    online: true,
    reason: "started",
    at,
  };
  t.is(publishLocalMessage(bus, SERVICE_ONLINE, up), 1);
  t.is(publishLocalMessage(bus, SERVICE_OFFLINE, { ...up, online: false, reason: "crashed" }), 1);
  const memory: AlertEvent = { at, kind: "memory", source: "flight_service#0.1", message: "rss 300 MB over 256 MB", value: 300e6, threshold: 256e6 };
  t.is(publishLocalMessage(bus, ALERT, memory), 1);
  t.is(publishLocalMessage(bus, ALERT, { at, kind: "crash_loop", source: "legacy", message: "6 restarts in 60 s" }), 1);

  await waitFor(() => status.length === 2 && alerts.length === 2, 5000, "the four events");
  t.deepEqual(status, [up, { ...up, online: false, reason: "crashed" }]);
  t.deepEqual(alerts[0], memory);
  t.like(alerts[1], { kind: "crash_loop", source: "legacy", value: undefined, threshold: undefined });
});

test("a payload that is not the topic's type is an onEvent error naming the topic", async (t) => {
  const { channel } = await startBus(t);
  const errors: unknown[] = [];
  const subscription = subscribeMessages(channel(), ALERT, { onError: (error) => errors.push(error) }, () => undefined);
  t.teardown(() => subscription.close());
  await subscription.ready;
  const publisher = createPublisher(channel());
  // Field 1 (a Timestamp, length-delimited) claiming 100 bytes that are not there.
  await publisher.publish(ALERT.name, Buffer.from([0x0a, 100, 1]));
  await waitFor(() => errors.length === 1, 5000, "the decode error");
  const error = errors[0];
  t.true(error instanceof RpcError);
  t.is((error as RpcError).code, Code.INVALID_ARGUMENT);
  t.regex((error as RpcError).message, /event on topic msf\.alert: the payload does not decode as the message type of msf\.alert/);
});

test("defineTopic checks its arguments", (t) => {
  t.throws(() => defineTopic("bad topic", AlertEvent), { message: /defineTopic: topic "bad topic": segment "bad topic" may hold only/ });
  t.throws(() => defineTopic("ok", {} as never), { message: /expected a generated message type/ });
  t.is(defineTopic("flight.*", AlertEvent).name, "flight.*");
});
