// The generated service code against the real runtime: definitions carry the right names, ids
// and idempotency; handler interfaces are what the server accepts (services-server.ts type-checks
// only if they are); clients call a real server on a unix socket, async and blocking, for every
// rpc shape of the golden cases (well-known types, nested and imported messages, aliased
// imports, no package).
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import test from "ava";
import { Code, createChannel, RpcError, type ServiceDefinition, type ServiceHandlers } from "msf";
import { methodId } from "../../runtime/wire/header.js";
import { FlightServiceDefinition } from "../golden/flight/gen/flight.server.js";
import flightPlugin, { flightServiceHandlers } from "../golden/flight/src/flight_service.impl.js";
import { InvoiceDeskClient } from "../golden/multi/gen/billing/billing.client.js";
import { InvoiceDeskDefinition } from "../golden/multi/gen/billing/billing.server.js";
import { EchoClient } from "../golden/multi/gen/nopkg.client.js";
import { EchoDefinition } from "../golden/multi/gen/nopkg.server.js";
import { CatalogDefinition, OrdersDefinition } from "../golden/multi/gen/shop.server.js";
import { Length_Unit } from "../golden/rich/gen/acme/units.js";
import { ItemStoreClient } from "../golden/rich/gen/rich.client.js";
import { Item, Item_Part_Kind } from "../golden/rich/gen/rich.js";
import { ItemStoreDefinition } from "../golden/rich/gen/rich.server.js";

const allDefinitions: readonly ServiceDefinition[] = [
  FlightServiceDefinition,
  ItemStoreDefinition,
  CatalogDefinition,
  OrdersDefinition,
  InvoiceDeskDefinition,
  EchoDefinition,
];

test("definitions: full names, local names, ids from methodId(), idempotency from the .proto", (t) => {
  for (const definition of allDefinitions) {
    for (const [key, method] of Object.entries(definition.methods)) {
      t.is(method.localName, key);
      t.is(method.fullName, `${definition.fullName}.${method.name}`);
      t.is(method.id, methodId(method.fullName));
    }
  }
  t.is(FlightServiceDefinition.fullName, "flight.flight_service");
  t.is(FlightServiceDefinition.methods.queryFlight.fullName, "flight.flight_service.queryFlight");
  t.is(ItemStoreDefinition.methods.putItem.name, "put_item");
  t.is(EchoDefinition.fullName, "Echo");
  t.is(EchoDefinition.methods.say.fullName, "Echo.Say");
  t.is(InvoiceDeskDefinition.methods.listOrders.name, "LIST_ORDERS");
  t.deepEqual(
    Object.values(ItemStoreDefinition.methods).map((method) => [method.localName, method.idempotent]),
    [
      ["getItem", true],
      ["putItem", true],
      ["listItems", false],
      ["describePart", false],
      ["measureItem", false],
      ["now", false],
    ],
  );
  t.true(OrdersDefinition.methods.getOrder.idempotent);
  t.false(OrdersDefinition.methods.placeOrder.idempotent);
});

test("the implementation scaffold type-checks as handlers and fails calls with UNIMPLEMENTED", async (t) => {
  // Compile-time: the scaffold and the plugin descriptor fit the runtime's types.
  const handlers: ServiceHandlers<typeof FlightServiceDefinition> = flightServiceHandlers;
  t.is(flightPlugin.services[0]?.definition, FlightServiceDefinition);
  t.is(flightPlugin.services[0]?.handlers, flightServiceHandlers);
  const error = await t.throwsAsync(
    Promise.resolve().then(() => handlers.queryFlight({ name: "", password: "", departureCity: "", destinationCity: "" }, undefined as never)),
    { instanceOf: RpcError },
  );
  t.is(error?.code, Code.UNIMPLEMENTED);
  t.is(error?.rawMessage, "flight_service.queryFlight has no implementation yet");
});

test("generated clients call generated services on a real server, async and blocking", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "msf-gen-services-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Workers do not inherit the test process's tsx loader: register it before loading the .ts.
  const entry = JSON.stringify(new URL("./services-server.ts", import.meta.url).href);
  const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${entry}); });`, {
    eval: true,
    workerData: { listen: `unix:${join(dir, "services.sock")}` },
  });
  t.teardown(async () => {
    worker.postMessage("close");
    const exited = await Promise.race([once(worker, "exit").then(() => true), delay(5000).then(() => false)]);
    if (!exited) await worker.terminate();
  });
  const [ready] = (await Promise.race([
    once(worker, "message"),
    once(worker, "error").then(([error]) => Promise.reject(error as Error)),
    delay(15_000).then(() => Promise.reject(new Error("the services worker did not listen within 15 s"))),
  ])) as [{ address: string }];
  const channel = createChannel(ready.address, { timeoutMs: 5000 });
  t.teardown(() => channel.close());

  const items = new ItemStoreClient(channel);
  const item = Item.fromPartial({
    id: "i-1",
    u64: 2n ** 64n - 1n,
    createdAt: new Date("2024-01-01T00:00:00.001Z"),
    maybeName: "m",
    choice: { $case: "number", value: -1n },
  });
  t.deepEqual(await items.putItem(item), {});
  t.deepEqual(await items.getItem({ id: "i-1" }), item);
  t.deepEqual(items.getItemSync({ id: "i-1" }, { timeoutMs: 5000 }), item);
  t.deepEqual(await items.listItems({}), { items: [item] });
  t.deepEqual(await items.describePart({ label: "bolt", kind: Item_Part_Kind.KIND_BOLT }), { value: "bolt:KIND_BOLT" });
  t.deepEqual(await items.measureItem({ id: "abcd" }), { value: 4, unit: Length_Unit.UNIT_METRE });
  t.deepEqual(items.nowSync({}), { seconds: 1_700_000_000n, nanos: 5 });
  const missing = await t.throwsAsync(items.getItem({ id: "nope" }), { instanceOf: RpcError });
  t.is(missing?.code, Code.NOT_FOUND);
  const missingSync = t.throws(() => items.getItemSync({ id: "nope" }), { instanceOf: RpcError });
  t.is(missingSync?.code, Code.NOT_FOUND);

  const invoices = new InvoiceDeskClient(channel);
  const doubled = { currency: "USD", units: 42n, nanos: 0 };
  t.deepEqual(await invoices.charge({ account: "a", amount: { currency: "USD", units: 21n, nanos: 0 } }), doubled);
  t.deepEqual(await invoices.refund({ orderId: "o-1" }), {});
  const refused = await t.throwsAsync(invoices.refund({ orderId: "" }), { instanceOf: RpcError });
  t.is(refused?.code, Code.INVALID_ARGUMENT);
  t.deepEqual(invoices.listOrdersSync({}), { id: "o-1", lines: [{ sku: "bolt", quantity: 3 }] });

  const echo = new EchoClient(channel);
  t.deepEqual(await echo.say({ text: "hi" }), { text: "hi via Echo.Say" });
  t.deepEqual(echo.saySync({ text: "sync" }), { text: "sync via Echo.Say" });
});
