// A test server in its own process: serves TestService (runtime-fixtures.ts) on the addresses
// given as arguments and prints "listening <address>" for each, then "ready". Its echo answers
// carry this process's pid in errmsg, so a test can tell which server instance answered.
// Runs until killed.
import { createServer, type CallContext } from "msf";
import type { QueryFlightRequest } from "./flight-messages.js";
import { TestService, testHandlers } from "./runtime-fixtures.js";

const handlers = testHandlers();
const server = createServer({ listen: process.argv.slice(2) });
server.addService(TestService, {
  ...handlers,
  echo: (request: QueryFlightRequest, context: CallContext) => ({ ...handlers.echo(request, context), errmsg: String(process.pid) }),
});
await server.start();
for (const address of server.addresses) console.log(`listening ${address}`);
console.log("ready");
