// The second half of `npm run demo`: the flight service as an msfd plugin. Starts msfd on
// examples/flight/msf.json (two instances in their own processes, in a temp run dir), then shows
// what an operator and a client see: `msf status`, `msf call`, a call by name (direct and
// brokered), an instance killed with SIGKILL and serving again, and a reload; then stops msfd.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { connectService } from "msf/daemon";
import { FlightServiceClient } from "./gen/flight.client.js";
import type { queryFlightRequest } from "./gen/flight.js";

const here = import.meta.dirname;
const repoRoot = resolve(here, "../..");
const config = join(here, "msf.json");
const source = import.meta.url.endsWith(".ts");
const msfdEntry = join(repoRoot, source ? "runtime/daemon/msfd.ts" : "dist/runtime/daemon/msfd.js");
const msfEntry = join(repoRoot, source ? "runtime/cli/msf.ts" : "dist/runtime/cli/msf.js");
const bison: queryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

export async function demonstrateMsfd(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), "msf-demo-run-"));
  // msf.json takes its run dir and tcp port from the environment: msfd, msf and connectService all read it.
  process.env["MSF_RUN_DIR"] = runDir;
  process.env["MSF_PORT"] = "0";
  const env = process.env;
  const msfd = spawn(process.execPath, [...process.execArgv, msfdEntry, "-c", config, "--no-watch"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  createInterface({ input: msfd.stderr! }).on("line", (line) => logs.push(line));
  const msf = (...args: string[]): string => {
    const result = spawnSync(process.execPath, [...process.execArgv, msfEntry, "-c", config, ...args], { env, encoding: "utf8", timeout: 30_000 });
    if (result.status !== 0) throw new Error(`msf ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
    return result.stdout.trimEnd();
  };
  try {
    const ready = await new Promise<string>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`msfd did not start within 60 s: ${logs.slice(-5).join("\n")}`)), 60_000);
      msfd.once("exit", (code) => reject(new Error(`msfd exited with code ${code}: ${logs.slice(-5).join("\n")}`)));
      createInterface({ input: msfd.stdout! }).on("line", (line) => {
        if (!line.startsWith("msfd ready")) return;
        clearTimeout(timer);
        resolveReady(line);
      });
    });
    console.log(`== msfd (pid ${msfd.pid}): ${ready}`);
    console.log(`$ msf call flight_service.queryFlight '{"name":"bison","password":"123456"}'`);
    console.log(msf("call", "flight_service.queryFlight", '{"name":"bison","password":"123456"}', "--json"));

    const direct = await connectService("flight_service", { config, mode: "direct", timeoutMs: 2000 });
    const brokered = await connectService("flight_service", { config, mode: "brokered", timeoutMs: 2000 });
    const client = new FlightServiceClient(brokered);
    console.log(`  by name, direct   -> ${JSON.stringify(await new FlightServiceClient(direct).queryFlight(bison))}`);
    console.log(`  by name, brokered -> ${JSON.stringify(await client.queryFlight(bison))}`);
    for (let index = 0; index < 10; index++) await client.queryFlight(bison);

    console.log("$ msf status");
    console.log(msf("status"));

    const status = JSON.parse(msf("status", "--json")) as { services: Array<{ spareReady?: boolean; instances: Array<{ pid: number; state: string }> }> };
    for (let waited = 0; status.services[0]!.spareReady !== true && waited < 100; waited++) {
      await new Promise((wake) => setTimeout(wake, 100));
      Object.assign(status, JSON.parse(msf("status", "--json")));
    }
    const victim = status.services[0]!.instances.find((instance) => instance.state === "ready")!.pid;
    const killedAt = Date.now();
    process.kill(victim, "SIGKILL");
    let failed = 0;
    // Calls go on while the instance is replaced; queryFlight is idempotent in msf.json, so msfd retries it elsewhere.
    for (let index = 0; index < 200; index++) {
      try {
        await client.queryFlight(bison);
      } catch {
        failed++;
      }
    }
    console.log(`  kill -9 of instance pid ${victim}: 200 calls in the next ${Date.now() - killedAt} ms, ${failed} failed`);

    console.log("$ msf reload");
    console.log(msf("reload"));
    await Promise.all([direct.close(), brokered.close()]);
  } finally {
    msfd.kill("SIGTERM");
    await new Promise((done) => (msfd.exitCode === null ? msfd.once("exit", done) : done(undefined)));
    rmSync(runDir, { recursive: true, force: true });
  }
}
