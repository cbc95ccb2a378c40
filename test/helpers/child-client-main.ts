// A client in its own process, for "what keeps a process alive" tests:
//   child-client-main.ts <target> close|forget
// Makes a few calls (one with a deadline, one with metadata), prints "called", then either closes
// the channel or just stops. Either way the process must exit by itself: no socket or timer of
// the channel may keep it alive. Before returning it prints the handles Node still counts as
// keeping the loop alive ("resources <json>") once the loop has had a turn to settle.
import { createChannel } from "msf";
import { TestService, request } from "./runtime-fixtures.js";

const [target, mode] = process.argv.slice(2);
const channel = createChannel(target!, { timeoutMs: 5000 });
await channel.unary(TestService.methods.echo, request("one"));
await channel.unary(TestService.methods.echo, request("two"), { timeoutMs: 60_000, metadata: { "x-echo": "m" } });
await Promise.all([1, 2, 3].map((i) => channel.unary(TestService.methods.echo, request(`p${i}`))));
console.log("called");
if (mode === "close") {
  await channel.close();
  // Handles being closed are released in the loop's close phase; give it a few turns.
  await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(`resources ${JSON.stringify(process.getActiveResourcesInfo())}`);
}
