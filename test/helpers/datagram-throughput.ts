// Quick side-by-side throughput of msf unary calls over unix, udp and netlink, server and client in
// separate processes, 64 calls in flight (the flight-style test service):
//   node --import tsx --conditions=msf-source test/helpers/datagram-throughput.ts [seconds per transport, default 3] [rounds, default 2]
// Prints calls/s per transport (best of the rounds) and each datagram transport's ratio to unix.
// Not a test: numbers depend on the machine and its load; run it on a quiet machine.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createChannel, createServer } from "msf";
import type { QueryFlightRequest, QueryFlightResponse } from "./flight-messages.js";
import { FlightServiceDefinition, queryFlightMethod } from "./flight-service.js";
import { netlinkTransport } from "../../runtime/transport/netlink.js";
import { udpTransport } from "../../runtime/transport/udp.js";

const IN_FLIGHT = 64;
const request: QueryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

function answer(req: QueryFlightRequest): QueryFlightResponse {
  return { errcode: 0, errmsg: "ok", flightsInfo: `${req.departureCity}->${req.destinationCity} MU5301 08:00` };
}

async function serve(listen: string): Promise<void> {
  const server = createServer({ listen: [listen] });
  server.addService(FlightServiceDefinition, { queryFlight: answer });
  await server.start();
  process.stdout.write(`ready ${server.addresses[0]}\n`);
  process.once("SIGTERM", () => process.exit(0));
  // Any line on stdin: report this process's CPU time so far (µs, user + system).
  createInterface({ input: process.stdin }).on("line", () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  });
}

interface Result {
  rate: number;
  /** CPU µs per call, client and server process. */
  clientCpu: number;
  serverCpu: number;
}

async function measure(listen: string, seconds: number): Promise<Result> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "serve", listen], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    const line = String(first.value ?? "");
    if (!line.startsWith("ready ")) throw new Error(`server for ${listen} did not start: ${line}`);
    const channel = createChannel(line.slice("ready ".length), { timeoutMs: 10_000 });
    // Warm-up, then the measured run.
    for (let i = 0; i < 2000; i++) await channel.unary(queryFlightMethod, request);
    const serverCpu = async (): Promise<number> => {
      child.stdin!.write("cpu\n");
      const reply = String((await lines.next()).value ?? "");
      return Number(reply.slice("cpu ".length));
    };
    let done = 0;
    const serverBefore = await serverCpu();
    const clientBefore = process.cpuUsage();
    const stopAt = Date.now() + seconds * 1000;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (Date.now() < stopAt) {
          await channel.unary(queryFlightMethod, request);
          done++;
        }
      }),
    );
    const rate = done / ((Date.now() - started) / 1000);
    const client = process.cpuUsage(clientBefore);
    const server = (await serverCpu()) - serverBefore;
    await channel.close();
    if (process.env.MSF_BENCH_STATS) console.log(listen, JSON.stringify({ udp: udpTransport.stats.snapshot(), netlink: netlinkTransport.stats.snapshot() }));
    return { rate, clientCpu: (client.user + client.system) / done, serverCpu: server / done };
  } finally {
    child.kill("SIGTERM");
  }
}

if (process.argv[2] === "serve") {
  await serve(process.argv[3]!);
} else {
  const seconds = Number(process.argv[2] ?? 3);
  const rounds = Number(process.argv[3] ?? 2);
  const dir = mkdtempSync(join(tmpdir(), "msf-dgbench-"));
  const transports = [
    ["unix", `unix:${join(dir, "bench.sock")}`],
    ["udp", "udp://127.0.0.1:0"],
    ["netlink", "netlink://0"],
  ] as const;
  const only = process.env.MSF_BENCH_ONLY;
  const best = new Map<string, number>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [name, listen] of transports) {
        if (only !== undefined && only !== name && name !== "unix") continue;
        const result = await measure(listen, seconds);
        console.log(
          `round ${round} ${name.padEnd(7)} ${Math.round(result.rate)} calls/s at ${IN_FLIGHT} in flight ` +
            `(CPU/call: client ${result.clientCpu.toFixed(2)} µs, server ${result.serverCpu.toFixed(2)} µs)`,
        );
        best.set(name, Math.max(best.get(name) ?? 0, result.rate));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const unix = best.get("unix")!;
  for (const [name] of transports) {
    const rate = best.get(name);
    if (rate === undefined) continue;
    console.log(`best ${name.padEnd(7)} ${Math.round(rate)} calls/s  (${(rate / unix).toFixed(2)}x unix)`);
  }
}
