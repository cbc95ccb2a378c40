// A worker thread serving the golden cases' services on the unix socket named in workerData,
// so the test thread can make blocking calls to it (a blocking call in the server's own
// thread would wait for an event loop it is blocking). Posts { address } once listening and
// closes the server when it receives "close".
import { parentPort, workerData } from "node:worker_threads";
import { Code, createServer, RpcError } from "msf";
import type { InvoiceDeskHandlers } from "../golden/multi/gen/billing/billing.server.js";
import { InvoiceDeskDefinition } from "../golden/multi/gen/billing/billing.server.js";
import { EchoDefinition, type EchoHandlers } from "../golden/multi/gen/nopkg.server.js";
import { Length_Unit } from "../golden/rich/gen/acme/units.js";
import { type Item, Item_Part_Kind } from "../golden/rich/gen/rich.js";
import { ItemStoreDefinition, type ItemStoreHandlers } from "../golden/rich/gen/rich.server.js";

const stored = new Map<string, Item>();

const itemStore: ItemStoreHandlers = {
  getItem(request) {
    const item = stored.get(request.id);
    if (item === undefined) throw new RpcError(Code.NOT_FOUND, `no item ${request.id}`);
    return item;
  },
  async putItem(request) {
    stored.set(request.id, request);
    return {};
  },
  listItems: () => ({ items: [...stored.values()] }),
  describePart: (request) => ({ value: `${request.label}:${Item_Part_Kind[request.kind]}` }),
  measureItem: (request) => ({ value: request.id.length, unit: Length_Unit.UNIT_METRE }),
  now: () => ({ seconds: 1_700_000_000n, nanos: 5 }),
};

const invoiceDesk: InvoiceDeskHandlers = {
  charge: (request) => ({ currency: request.amount?.currency ?? "EUR", units: (request.amount?.units ?? 0n) * 2n, nanos: 0 }),
  refund: (request) => {
    if (request.orderId === "") throw new RpcError(Code.INVALID_ARGUMENT, "order id required");
    return {};
  },
  listOrders: () => ({ id: "o-1", lines: [{ sku: "bolt", quantity: 3 }] }),
};

const echo: EchoHandlers = { say: (request, context) => ({ text: `${request.text} via ${context.method.fullName}` }) };

const server = createServer({ listen: [(workerData as { listen: string }).listen] })
  .addService(ItemStoreDefinition, itemStore)
  .addService(InvoiceDeskDefinition, invoiceDesk)
  .addService(EchoDefinition, echo);
await server.start();
parentPort?.on("message", (message) => {
  if (message === "close") void server.close({ graceMs: 0 }).then(() => parentPort?.close());
});
parentPort?.postMessage({ address: server.addresses[0] });
