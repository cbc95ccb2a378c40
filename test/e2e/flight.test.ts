// The generated flight client against the example server in another process, over unix and tcp,
// async and blocking; and the same channel surviving a server restart.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createChannel, RpcError } from "msf";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import type { queryFlightRequest } from "../../examples/flight/gen/flight.js";
import { startFlightServer } from "../helpers/flight-server-process.js";

const bison: queryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
const flights = { errcode: 0, errmsg: "success", flightsInfo: "{Spring Airlines;9C8835;RMB1230}" };
const rejected = { errcode: -1, errmsg: "invalid user", flightsInfo: "" };

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "msf-e2e-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("generated client calls the example server over unix and tcp, async and blocking", async (t) => {
  const dir = tempDir(t);
  const server = await startFlightServer([`unix:${join(dir, "flight.sock")}`, "tcp://127.0.0.1:0"]);
  t.teardown(() => server.kill());
  t.is(server.addresses.length, 2);
  for (const target of server.addresses) {
    const channel = createChannel(target, { timeoutMs: 2000 });
    const client = new FlightServiceClient(channel);
    t.deepEqual(await client.queryFlight(bison), flights, `async over ${target}`);
    t.deepEqual(client.queryFlightSync(bison, { timeoutMs: 2000 }), flights, `blocking over ${target}`);
    t.deepEqual(await client.queryFlight({ ...bison, password: "nope" }), rejected);
    t.deepEqual(client.queryFlightSync({ ...bison, name: "mallory" }), rejected);
    await channel.close();
  }
});

test("the same channel and client keep working after the server process is killed and restarted", async (t) => {
  const dir = tempDir(t);
  const address = `unix:${join(dir, "flight.sock")}`;
  let server = await startFlightServer([address]);
  t.teardown(() => server.kill());
  const channel = createChannel(address, { timeoutMs: 2000 });
  t.teardown(() => channel.close());
  const client = new FlightServiceClient(channel);
  t.deepEqual(await client.queryFlight(bison), flights);
  t.deepEqual(client.queryFlightSync(bison), flights);

  await server.kill();
  const whileDown = await t.throwsAsync(client.queryFlight(bison), { instanceOf: RpcError });
  t.is(whileDown?.code, Code.UNAVAILABLE);

  server = await startFlightServer([address]);
  let reply: unknown;
  for (let attempt = 0; attempt < 20 && reply === undefined; attempt++) {
    try {
      reply = await client.queryFlight(bison);
    } catch (error) {
      if (!(error instanceof RpcError) || error.code !== Code.UNAVAILABLE) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.deepEqual(reply, flights, "async call after restart");
  t.deepEqual(client.queryFlightSync(bison, { timeoutMs: 2000 }), flights, "blocking call after restart");
});
