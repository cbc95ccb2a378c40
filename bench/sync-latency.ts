/**
 * Latency of blocking calls against async calls at 1 in flight, over a unix socket, tcp and udp
 * (127.0.0.1) and netlink (when its addon is built): the same server (test/helpers/sync-peer.ts,
 * in another process) and the same client process for all three engines:
 *
 *   async   await channel.unary(echo, req)
 *   worker  SyncCaller "worker": a worker thread owns an async channel, the caller sleeps in Atomics.wait
 *   native  SyncCaller "native": the calling thread does blocking send/poll/recv (native/sync-socket;
 *           over udp and netlink with the datagram layer driven by the caller's waits)
 *
 * The engines run in alternating blocks of `block` calls, rotating which goes first, so a change of
 * machine load hits all of them. Prints p50/p99 per engine and transport, calls/s (1 / mean), and
 * the ratios to async. The native row is skipped (with the reason) when the addon is not built.
 *
 *   node --import tsx --conditions=msf-source bench/sync-latency.ts [calls-each] [block] [transports]
 *
 * `transports`: comma-separated, of unix,tcp,udp,netlink (default: all four; netlink is left out,
 * saying so, when its addon is not built).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { createChannel } from "msf";
import { SyncCaller } from "../runtime/client/sync-caller.js";
import { nativeUnsupported } from "../runtime/client/sync-native-target.js";
import { loadNetlinkAddon } from "../runtime/transport/datagram-netlink-socket.js";
import { bison } from "../test/helpers/flight-service.js";
import { syncService } from "../test/helpers/sync-service.js";

const TRANSPORTS = ["unix", "tcp", "udp", "netlink"] as const;
const calls = Number(process.argv[2] ?? 5000);
const block = Number(process.argv[3] ?? 500);
const asked = (process.argv[4] ?? TRANSPORTS.join(",")).split(",");
if (!(calls > 0 && block > 0) || !asked.every((name) => (TRANSPORTS as readonly string[]).includes(name))) {
  throw new Error(`usage: sync-latency.ts [calls-each > 0] [block > 0] [transports of ${TRANSPORTS.join(",")}], got ${process.argv.slice(2).join(" ")}`);
}
const netlink = loadNetlinkAddon();
const transports = asked.filter((name) => {
  if (name !== "netlink" || netlink.ok) return true;
  console.error(`netlink skipped: ${netlink.reason}`);
  return false;
});
const repoRoot = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "msf-sync-bench-"));
const listen: Record<string, string> = {
  unix: `unix:${join(dir, "bench.sock")}`,
  tcp: "tcp://127.0.0.1:0",
  udp: "udp://127.0.0.1:0",
  netlink: "netlink://0",
};
const server = spawn(
  process.execPath,
  ["--import", "tsx", "--conditions=msf-source", resolve(repoRoot, "test/helpers/sync-peer.ts"), "server", ...transports.map((name) => listen[name]!)],
  { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
);

interface Row {
  transport: string;
  engine: string;
  p50: number;
  p99: number;
  perSecond: number;
}

type Engine = { name: string; run(): Promise<void> | void; close(): Promise<void> | void };

try {
  const targets = await new Promise<string[]>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not listen within 20 s")), 20_000);
    server.once("exit", (code) => fail(new Error(`server exited (code ${code})`)));
    const found: string[] = [];
    createInterface({ input: server.stdout! }).on("line", (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match === null) return;
      found.push(match[1]!);
      if (found.length === transports.length) {
        clearTimeout(timer);
        done(found);
      }
    });
  });
  const echo = syncService.methods.echo;
  const rows: Row[] = [];
  for (const target of targets) {
    const transport = target.slice(0, target.indexOf(":"));
    const channel = createChannel(target, { timeoutMs: 5000 });
    const engines: Engine[] = [
      { name: "async", run: async () => void (await channel.unary(echo, bison)), close: () => channel.close() },
    ];
    const worker = new SyncCaller(target, { timeoutMs: 5000 }, "worker");
    engines.push({ name: "worker", run: () => void worker.call(echo, bison), close: () => worker.close() });
    const whyNot = nativeUnsupported(target, {});
    if (whyNot === undefined) {
      const native = new SyncCaller(target, { timeoutMs: 5000 }, "native");
      engines.push({ name: "native", run: () => void native.call(echo, bison), close: () => native.close() });
    } else {
      console.error(`native skipped: ${whyNot}`);
    }

    // Warm-up: connections, worker start, JIT.
    for (let i = 0; i < 1000; i++) for (const engine of engines) await engine.run();

    const samples = engines.map(() => new Float64Array(calls));
    for (let done = 0, round = 0; done < calls; done += block, round++) {
      const end = Math.min(calls, done + block);
      for (let k = 0; k < engines.length; k++) {
        const index = (k + round) % engines.length;
        const engine = engines[index]!;
        const into = samples[index]!;
        for (let i = done; i < end; i++) {
          const start = performance.now();
          await engine.run();
          into[i] = performance.now() - start;
        }
      }
    }
    for (const engine of engines) await engine.close();
    engines.forEach((engine, index) => rows.push(summarize(transport, engine.name, samples[index]!)));
  }

  for (const row of rows) {
    console.log(
      `${row.transport.padEnd(7)} ${row.engine.padEnd(6)} ${calls} calls: p50 ${row.p50.toFixed(1)} µs, p99 ${row.p99.toFixed(1)} µs, ${Math.round(row.perSecond)} calls/s`,
    );
  }
  for (const transport of transports) {
    const base = rows.find((row) => row.transport === transport && row.engine === "async");
    if (base === undefined) continue;
    for (const row of rows.filter((r) => r.transport === transport && r.engine !== "async")) {
      console.log(
        `${transport.padEnd(7)} ${row.engine}/async: p50 ${(row.p50 / base.p50).toFixed(2)}x, p99 ${(row.p99 / base.p99).toFixed(2)}x, calls/s ${(row.perSecond / base.perSecond).toFixed(2)}x`,
      );
    }
  }
} finally {
  server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}

function summarize(transport: string, engine: string, samples: Float64Array): Row {
  let total = 0;
  for (const sample of samples) total += sample;
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]! * 1000;
  return { transport, engine, p50: at(0.5), p99: at(0.99), perSecond: (samples.length * 1000) / total };
}
