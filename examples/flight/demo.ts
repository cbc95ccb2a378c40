// `npm run demo`: the flight story end to end. Starts the flight server in its own process on a
// unix socket and a tcp port, then over each transport makes an async call, a blocking call, a
// call with a wrong password, and a short async loop (calls/s), and stops the server. Then the
// same service under msfd (demo-msfd.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createChannel } from "msf";
import { demonstrateMsfd } from "./demo-msfd.js";
import { FlightServiceClient } from "./gen/flight.client.js";
import type { queryFlightRequest } from "./gen/flight.js";

const LOOP_CALLS = 20_000;
const LOOP_IN_FLIGHT = 64;

const workDir = mkdtempSync(join(tmpdir(), "msf-demo-"));
const server = spawn(
  process.execPath,
  [...process.execArgv, fileURLToPath(new URL("./server.ts", import.meta.url)), `unix:${join(workDir, "flight.sock")}`, "tcp://127.0.0.1:0"],
  { stdio: ["ignore", "pipe", "inherit"] },
);

try {
  const addresses = await readAddresses(server, 2);
  console.log(`flight server (pid ${server.pid}) listening on ${addresses.join(" and ")}\n`);
  for (const target of addresses) await demonstrate(target);
} finally {
  server.kill("SIGTERM");
  rmSync(workDir, { recursive: true, force: true });
}
await demonstrateMsfd();

async function demonstrate(target: string): Promise<void> {
  const channel = createChannel(target, { timeoutMs: 1000 });
  const client = new FlightServiceClient(channel);
  const bison: queryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
  const intruder: queryFlightRequest = { ...bison, name: "mallory", password: "guess" };
  console.log(`== ${target}`);
  console.log(`  async    queryFlight(bison)   -> ${JSON.stringify(await client.queryFlight(bison, { timeoutMs: 200 }))}`);
  console.log(`  blocking queryFlightSync(bison) -> ${JSON.stringify(client.queryFlightSync(bison, { timeoutMs: 1000 }))}`);
  console.log(`  async    queryFlight(mallory) -> ${JSON.stringify(await client.queryFlight(intruder))}`);
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < LOOP_CALLS) {
      next++;
      await client.queryFlight(bison);
    }
  };
  await Promise.all(Array.from({ length: LOOP_IN_FLIGHT }, lane));
  const seconds = (performance.now() - started) / 1000;
  console.log(`  async loop: ${LOOP_CALLS} calls, ${LOOP_IN_FLIGHT} in flight, ${Math.round(LOOP_CALLS / seconds)} calls/s\n`);
  await channel.close();
}

/** Waits for the server's "listening <address>" lines (its contract, see server.ts). */
function readAddresses(child: ChildProcess, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const addresses: string[] = [];
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("flight server did not start within 10 s")), 10_000);
    child.once("exit", (code) => reject(new Error(`flight server exited with code ${code} before listening`)));
    lines.on("line", (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) addresses.push(match[1]!);
      if (addresses.length === count) {
        clearTimeout(timer);
        resolve(addresses);
      }
    });
  });
}
