/**
 * The other process of the blocking-call tests and benchmark (a blocking call blocks its own
 * thread, so the server must live elsewhere). Run with `node --import tsx --conditions=msf-source`.
 *
 *   sync-peer.ts server <listen-uri>...   serves syncService; prints "listening <address>" per
 *                                         address, then serves until SIGTERM/SIGINT
 *   sync-peer.ts client <target>          one blocking echo call without close(); prints
 *                                         "reply <errmsg>" and lets the process end by itself
 *   sync-peer.ts broken-worker <target>   one blocking call without a timeout through a
 *                                         SyncCaller whose worker cannot create its channel;
 *                                         prints "error <code> <message>"
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Code, createChannel, createServer, RpcError, type ServiceHandlers } from "msf";
import { SyncCaller } from "../../runtime/client/sync-caller.js";
import { bison } from "./flight-service.js";
import { syncService } from "./sync-service.js";

const handlers: ServiceHandlers<typeof syncService> = {
  echo: (request) => ({ errcode: 0, errmsg: request.name, flightsInfo: `${request.departureCity}->${request.destinationCity}` }),
  fail: (request) => {
    throw new RpcError(Number(request.password) as Code, request.name);
  },
  slow: async (request) => {
    await sleep(Number(request.password));
    return { errcode: 0, errmsg: request.name, flightsInfo: `${request.departureCity}->${request.destinationCity}` };
  },
  meta: (_request, context) => ({
    errcode: 0,
    errmsg: [...context.metadata].map(([key, value]) => `${key}=${value}`).sort().join(","),
    flightsInfo: "",
  }),
};

async function serve(listen: string[]): Promise<void> {
  const server = createServer({ listen });
  server.addService(syncService, handlers);
  await server.start();
  for (const address of server.addresses) console.log(`listening ${address}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void server.close({ graceMs: 500 }).then(() => process.exit(0));
    });
  }
}

function client(target: string): void {
  const channel = createChannel(target);
  const reply = channel.unarySync(syncService.methods.echo, bison, { timeoutMs: 10_000 });
  console.log(`reply ${reply.errmsg}`);
}

function brokenWorker(target: string): void {
  // connectTimeoutMs 0 is refused by createChannel, which the worker calls: its start fails.
  const caller = new SyncCaller(target, { connectTimeoutMs: 0 });
  try {
    caller.call(syncService.methods.echo, bison);
    console.log("reply (unexpected)");
  } catch (error) {
    const rpcError = RpcError.from(error);
    console.log(`error ${rpcError.code} ${rpcError.rawMessage}`);
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "server") await serve(args);
else if (mode === "client" && args.length === 1) client(args[0]!);
else if (mode === "broken-worker" && args.length === 1) brokenWorker(args[0]!);
else {
  console.error(`usage: sync-peer.ts server <listen-uri>... | client <target> | broken-worker <target>; got ${process.argv.slice(2).join(" ")}`);
  process.exit(2);
}
