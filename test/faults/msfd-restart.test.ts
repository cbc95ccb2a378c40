// msfd itself killed with SIGKILL and started again on the same config: its plugin instances go
// away with it (they exit when their IPC channel closes), the new msfd starts them, and a client
// channel and event publisher/subscriber made before the kill work again without any manual step.
// Events: what a Publish's acknowledgement guarantees (docs/reliability.md) is checked, and the
// events msfd held in memory when it was killed are counted, not assumed kept.
import test from "ava";
import { Code, RpcError } from "msf";
import { createPublisher, subscribe, type ReceivedEvent } from "msf/events";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd } from "../daemon/msfd-harness.js";
import { sleep, until } from "./fault-load.js";

const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
const config = {
  proc_name: "restart",
  proc_svcs: [{ svc_name: "flight_service", svc_libs: flightPlugin, isolation: "process", instances: 2, idempotent_methods: ["queryFlight"] }],
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("msfd killed with SIGKILL and started again: instances restart, an existing client channel and events recover by themselves", async (t) => {
  t.timeout(120_000);
  const first = await startMsfd(t, config, { args: ["--no-watch"] });
  const control = first.controlClient();
  const pids = await until(
    async () => {
      const instances = (await control.status({})).services[0]?.instances.filter((instance) => instance.state === "ready") ?? [];
      return instances.length === 2 ? instances.map((instance) => instance.pid) : undefined;
    },
    30_000,
    "2 ready instances",
  );
  // Made before the kill, used after it: the channel reconnects by itself.
  const channel = first.broker({ timeoutMs: 2000 });
  const client = new FlightServiceClient(channel);
  t.is((await client.queryFlight(bison)).errmsg, "success");

  const decoder = new TextDecoder();
  const received: string[] = [];
  const subscription = subscribe(channel, "faults.tick", { waitMs: 500 }, (event: ReceivedEvent) => void received.push(decoder.decode(event.payload)));
  t.teardown(() => subscription.close());
  await subscription.ready;
  const publisher = createPublisher(channel, { timeoutMs: 1000 });
  t.teardown(() => publisher.close().catch(() => undefined));
  const encoder = new TextEncoder();
  const acknowledgedBefore: string[] = [];
  for (let index = 0; index < 200; index++) {
    const payload = `before ${index}`;
    void publisher.publish("faults.tick", encoder.encode(payload)).then(() => acknowledgedBefore.push(payload), () => undefined);
  }
  await publisher.flush();
  t.is(acknowledgedBefore.length, 200);

  first.process.kill("SIGKILL");
  await until(() => (first.process.exitCode !== null || first.process.signalCode !== null ? true : undefined), 5000, "msfd to die");
  // Its instances notice (their IPC channel closed) and exit.
  await until(() => (pids.every((pid) => !alive(pid)) ? true : undefined), 10_000, "the instances to exit after msfd died");
  t.pass("every instance exited with msfd");

  // While msfd is down: calls and publishes fail with a clear code, never hang, never "succeed".
  const down = await t.throwsAsync(client.queryFlight(bison, { timeoutMs: 1000 }), { instanceOf: RpcError });
  t.true([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED].includes(down!.code), down!.message);
  const lost = publisher.publish("faults.tick", encoder.encode("while down"));
  const publishError = await t.throwsAsync(lost, { instanceOf: RpcError });
  t.true([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED].includes(publishError!.code), publishError!.message);
  await publisher.flush().catch(() => undefined);

  const restartedAt = Date.now();
  const second = await startMsfd(t, config, { dir: first.dir, args: ["--no-watch"] });
  t.deepEqual(second.listen, first.listen);
  const readyAt = Date.now();
  // The old channel serves again: bounded retries, 10 s at most.
  const served = await until(
    () =>
      client.queryFlight(bison, { timeoutMs: 1000 }).then(
        (reply) => (reply.errmsg === "success" ? Date.now() : undefined),
        () => undefined,
      ),
    20_000,
    "a successful call on the channel made before the kill",
  );
  const newPids = (await second.controlClient().status({})).services[0]!.instances.map((instance) => instance.pid);
  t.true(newPids.every((pid) => !pids.includes(pid)), "new instances");

  // The subscriber subscribes again by itself; the publisher goes on (resync after its failed batch).
  await until(() => (subscription.stats.resubscribes >= 1 ? true : undefined), 15_000, "the subscriber to subscribe again");
  const acknowledgedAfter: string[] = [];
  for (let index = 0; index < 200; index++) {
    const payload = `after ${index}`;
    void publisher.publish("faults.tick", encoder.encode(payload)).then(() => acknowledgedAfter.push(payload), () => undefined);
  }
  await publisher.flush();
  t.is(acknowledgedAfter.length, 200);
  await until(() => (acknowledgedAfter.every((payload) => received.includes(payload)) ? true : undefined), 10_000, "every event acknowledged after the restart");
  await sleep(200);
  // Order per publisher and no duplicates, across the restart.
  t.is(new Set(received).size, received.length, "no event delivered twice");
  const order = (payload: string) => (payload.startsWith("before") ? 0 : 1_000) + Number(payload.split(" ")[1]);
  t.deepEqual(received.map(order), [...received].map(order).sort((a, b) => a - b), "publisher order kept");
  t.false(received.includes("while down"), "a publish that failed was not delivered");
  const lostBefore = acknowledgedBefore.filter((payload) => !received.includes(payload)).length;
  t.log(
    `msfd ready ${readyAt - restartedAt} ms after it was started again (from source), the old channel served ${served - readyAt} ms after that; events acknowledged before the kill: 200, ` +
      `delivered: ${200 - lostBefore}, lost with msfd's memory: ${lostBefore}; after the restart: 200 acknowledged, 200 delivered`,
  );
});
