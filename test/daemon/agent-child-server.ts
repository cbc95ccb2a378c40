// An instance in its own process for the forwarder tests, so a test can kill it (SIGKILL) while a
// handler runs: serves TestService (runtime-fixtures.ts) on the addresses given as arguments,
// prints "listening <address>" for each, then "ready", and "running <name>" when a wait handler
// starts. echo answers with this process's pid in errmsg. Runs until killed.
import { createServer, type CallContext } from "msf";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { TestService, testHandlers } from "../helpers/runtime-fixtures.js";

const handlers = testHandlers();
const server = createServer({ listen: process.argv.slice(2) });
server.addService(TestService, {
  ...handlers,
  echo: (request: QueryFlightRequest, context: CallContext) => ({ ...handlers.echo(request, context), errmsg: String(process.pid) }),
  wait: (request: QueryFlightRequest, context: CallContext) => {
    console.log(`running ${request.name}`);
    return handlers.wait(request, context);
  },
});
await server.start();
for (const address of server.addresses) console.log(`listening ${address}`);
console.log("ready");
