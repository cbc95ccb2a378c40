// Server and channel in one process, both closed: afterwards nothing of msf may keep the process
// alive. Prints "resources <json>" (handles Node counts as keeping the loop alive) and returns,
// so the process must exit by itself.
//   child-lifecycle-main.ts <unix socket path>
import { createChannel, createServer } from "msf";
import { TestService, request, testHandlers } from "./runtime-fixtures.js";

const server = createServer({ listen: [`unix:${process.argv[2]}`, "tcp://127.0.0.1:0"] });
server.addService(TestService, testHandlers());
await server.start();
for (const address of server.addresses) {
  const channel = createChannel(address, { timeoutMs: 60_000 });
  await channel.unary(TestService.methods.echo, request("x"));
  // A call that times out, and one still in flight at close: both leave timers and state behind.
  await channel.unary(TestService.methods.wait, request("t", { departureCity: "2000" }), { timeoutMs: 20 }).catch(() => undefined);
  const inFlight = channel.unary(TestService.methods.wait, request("f", { departureCity: "2000" })).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await channel.close();
  await inFlight;
}
await server.close({ graceMs: 100 });
// Handles being closed are released in the loop's close phase, and timers cleared by handlers
// aborted at close go once those handlers ran: give it turns (up to 2 s on a loaded machine)
// until only this process's own stdio pipes are left.
const left = (): string[] => process.getActiveResourcesInfo().filter((name) => name !== "PipeWrap" && name !== "TTYWrap");
// (left() is read when no timer of this loop is pending: the previous one has fired.)
for (let turn = 0; turn < 100 && left().length > 0; turn++) await new Promise((resolve) => setTimeout(resolve, 20));
console.log(`resources ${JSON.stringify(process.getActiveResourcesInfo())}`);
