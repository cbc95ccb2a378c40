// upgrade(next): the new generation starts next to the old, is reported up, the old is reported
// down and drains; under a steady load no call fails. An upgrade that cannot start leaves the old
// generation serving.
import test from "ava";
import { HostService } from "../fixtures/plugins/host-service.js";
import { EventRouter, fixture, request, serviceConfig, sleep, SteadyLoad, supervise } from "./host-helpers.js";

test("upgrade under a steady load: new generation up, old drained, no failed call", async (t) => {
  const v1 = serviceConfig({ name: "up", instances: 2, options: { version: 1 } });
  const { supervisor, recorded } = supervise(t, v1, { spare: false });
  await supervisor.start();
  const router = new EventRouter(t, supervisor);
  const load = new SteadyLoad(() => router.call(HostService.methods.whoami, request("load")), 4);
  t.teardown(() => load.stop());
  // A slow call on the old generation, in flight across the switch: draining lets it finish.
  const slow = router.call(HostService.methods.slow, request("across", "300"), 5000);
  await sleep(100);

  const v2 = serviceConfig({ name: "up", instances: 2, isolation: "process", options: { version: 2 } });
  await supervisor.upgrade(v2);
  await sleep(100);
  await load.stop();

  t.deepEqual(load.failures, []);
  t.true(load.ok > 20, `calls made: ${load.ok}`);
  t.is((await slow).flightsInfo, "slow across");
  t.is(supervisor.config, v2);
  t.is(supervisor.state, "running");
  t.deepEqual(supervisor.instances().map((info) => [info.id, info.state, info.pid !== process.pid]), [
    ["up#0.2", "ready", true],
    ["up#1.2", "ready", true],
  ]);
  const lastNewUp = Math.max(...recorded.ups.filter((up) => up.info.generation === 2).map((up) => up.at));
  const firstOldDown = Math.min(...recorded.downs.filter((down) => down.info.generation === 1).map((down) => down.at));
  t.true(lastNewUp <= firstOldDown, "the whole new generation is up before the old one goes down");
  t.deepEqual(recorded.downs.map((down) => down.info.id).sort(), ["up#0.1", "up#1.1"]);
  const inits = recorded.logs.filter((line) => line.message === "init").map((line) => (line.fields as { options: unknown; instance: string }));
  t.deepEqual(inits.map((fields) => [fields.instance, fields.options]).sort(), [
    ["up#0.1", { version: 1 }],
    ["up#0.2", { version: 2 }],
    ["up#1.1", { version: 1 }],
    ["up#1.2", { version: 2 }],
  ]);
  const replies = await Promise.all([0, 1, 2, 3].map(() => router.call(HostService.methods.whoami, request("after"))));
  t.deepEqual([...new Set(replies.map((reply) => reply.flightsInfo))].sort(), ["up#0.2", "up#1.2"]);
});

test("an upgrade that does not start leaves the running generation serving", async (t) => {
  const { supervisor, recorded } = supervise(t, serviceConfig({ name: "keep" }), { spare: false });
  await supervisor.start();
  const broken = serviceConfig({ name: "keep", module: fixture("not-a-plugin.ts") });
  const error = await t.throwsAsync(supervisor.upgrade(broken));
  t.regex(error!.message, /^service keep: the upgrade did not start, the running generation keeps serving: keep#0\.2 failed to start: cannot load plugin .*not-a-plugin\.ts/);
  t.is(supervisor.state, "running");
  t.not(supervisor.config, broken);
  t.deepEqual(supervisor.instances().map((info) => [info.id, info.state]), [["keep#0.1", "ready"]]);
  t.deepEqual(recorded.downs, []);
  t.deepEqual(recorded.alerts.map((alert) => alert.kind), ["load_failed"]);
  const router = new EventRouter(t, supervisor);
  t.is((await router.call(HostService.methods.whoami, request("still"))).flightsInfo, "keep#0.1");
});
