// Events through a real msfd: publish/subscribe on the broker's address (broadcast, balanced
// groups, per-publisher order), and msfd's own events (service online/offline, alerts).
import test from "ava";
import { ALERT, createPublisher, SERVICE_OFFLINE, SERVICE_ONLINE, subscribe, subscribeMessages, type ReceivedEvent } from "../../runtime/events/index.js";
import { flightPlugin, startMsfd } from "./msfd-harness.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const stopAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > stopAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("events through msfd: broadcast to two subscribers, one per member in a group, in publisher order", async (t) => {
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [] });
  const channel = msfd.broker({ timeoutMs: 5000 });
  const everyA: string[] = [];
  const everyB: string[] = [];
  const group: Array<{ member: string; payload: string }> = [];
  const subscriptions = [
    subscribe(channel, "flight.booked", {}, (event: ReceivedEvent) => void everyA.push(decoder.decode(event.payload))),
    subscribe(channel, "flight.booked", {}, (event: ReceivedEvent) => void everyB.push(decoder.decode(event.payload))),
    subscribe(channel, "flight.booked", { group: "billing" }, (event: ReceivedEvent) => void group.push({ member: "1", payload: decoder.decode(event.payload) })),
    subscribe(channel, "flight.booked", { group: "billing" }, (event: ReceivedEvent) => void group.push({ member: "2", payload: decoder.decode(event.payload) })),
  ];
  t.teardown(() => Promise.all(subscriptions.map((subscription) => subscription.close())));
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  const publisher = createPublisher(channel);
  t.teardown(() => publisher.close());
  const count = 2000;
  const sent = Array.from({ length: count }, (_, index) => `booking ${index}`);
  await Promise.all(sent.map((payload) => publisher.publish("flight.booked", encoder.encode(payload))));
  await until(() => everyA.length === count && everyB.length === count && group.length === count, 20_000, "every event delivered");
  t.deepEqual(everyA, sent);
  t.deepEqual(everyB, sent);
  const delivered = group.map((entry) => entry.payload);
  t.is(new Set(delivered).size, count, "no event went to two members of the group");
  for (const member of ["1", "2"]) {
    const own = group.filter((entry) => entry.member === member).map((entry) => Number(entry.payload.split(" ")[1]));
    t.deepEqual(own, [...own].sort((a, b) => a - b), `member ${member} sees the publisher's order`);
  }
});

test("msfd publishes service online and offline events and alerts", async (t) => {
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, isolation: "process" }] });
  const channel = msfd.broker({ timeoutMs: 5000 });
  const online: string[] = [];
  const offline: string[] = [];
  const alerts: string[] = [];
  const subscriptions = [
    subscribeMessages(channel, SERVICE_ONLINE, {}, (event) => void online.push(`${event.instance} ${event.reason}`)),
    subscribeMessages(channel, SERVICE_OFFLINE, {}, (event) => void offline.push(`${event.instance} ${event.reason}`)),
    subscribeMessages(channel, ALERT, {}, (event) => void alerts.push(`${event.kind} ${event.source}`)),
  ];
  t.teardown(() => Promise.all(subscriptions.map((subscription) => subscription.close())));
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  const control = msfd.controlClient();
  const [instance] = (await control.status({})).services[0]!.instances;
  process.kill(instance!.pid, "SIGKILL");
  await until(() => offline.length >= 1 && online.length >= 1 && alerts.length >= 1, 10_000, "offline, online and alert events");
  t.regex(offline[0]!, /^flight_service#0\.1 crashed$/);
  t.regex(online[0]!, /^flight_service#0\.\d+ restarted$/);
  t.regex(alerts[0]!, /^restart flight_service#0\.1$/);
});
