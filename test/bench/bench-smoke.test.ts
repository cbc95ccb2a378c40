// The benchmark driver runs end to end: real server and client processes per scenario, the
// table printed, exit status 0. Correctness only: no figure's size is checked, only that each
// requested row is there and that calls completed.
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");
const RUN_LIMIT_MS = 50_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runBench(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(repoRoot, "bench/run.ts"), ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const limit = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_MS);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(limit);
  return { code, stdout, stderr };
}

/** The table row for `impl transport inFlight`, split into cells; undefined when absent. */
function row(stdout: string, impl: string, transport: string, inFlight: number): string[] | undefined {
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === impl && cells[1] === transport && cells[2] === String(inFlight));
}

function callsPerSecond(cells: readonly string[]): number {
  return Number(cells[3]!.replaceAll(",", ""));
}

test("--smoke --only raw,msf --transports unix prints a row per implementation and in-flight level", async (t) => {
  const run = await runBench(["--smoke", "--only", "raw,msf", "--transports", "unix", "--source"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^impl\s+transport\s+in-flight\s+calls\/s\s+×base\s+p50 µs.*\s+baseline$/m);
  for (const impl of ["raw", "msf"]) {
    for (const inFlight of [1, 64]) {
      const cells = row(run.stdout, impl, "unix", inFlight);
      t.truthy(cells, `no ${impl} unix ${inFlight} row in:\n${run.stdout}`);
      t.is(cells!.length, 12, `row ${cells!.join(" | ")}`);
      t.is(cells![11], "raw unix");
      t.true(callsPerSecond(cells!) > 0, `${impl} unix ${inFlight} completed no calls`);
    }
  }
  t.is(row(run.stdout, "raw", "unix", 1)![4], "1.00");
  t.is(row(run.stdout, "grpc", "unix", 1), undefined);
  t.is(row(run.stdout, "raw", "tcp", 1), undefined);
});

test("--smoke --only msf,msf-auth --transports udp,netlink runs msf over the datagram transports against raw unix", async (t) => {
  const netlinkBuilt = existsSync(resolve(repoRoot, "native/netlink/build/Release/netlink.node"));
  const run = await runBench(["--smoke", "--only", "msf,msf-auth", "--transports", "udp,netlink", "--source"]);
  t.is(run.code, 0, run.stderr);
  for (const transport of netlinkBuilt ? ["udp", "netlink"] : ["udp"]) {
    for (const inFlight of [1, 64]) {
      const cells = row(run.stdout, "msf", transport, inFlight);
      t.truthy(cells, `no msf ${transport} ${inFlight} row in:\n${run.stdout}`);
      t.is(cells!.length, 12, `row ${cells!.join(" | ")}`);
      t.true(callsPerSecond(cells!) > 0, `msf ${transport} ${inFlight} completed no calls`);
      // Raw unix did not run, so no ratio, but the row names the baseline it would use.
      t.is(cells![4], "-");
      t.is(cells![11], "raw unix");
    }
  }
  if (netlinkBuilt) t.notRegex(run.stdout, /netlink rows skipped/);
  else t.regex(run.stdout, /netlink rows skipped: the netlink addon is not built/);
  // msf-auth is measured over unix and tcp only.
  for (const transport of ["udp", "netlink"]) t.is(row(run.stdout, "msf-auth", transport, 1), undefined);
});

test("--smoke --only msf,msf-auth --transports unix runs msf-auth against msf without auth", async (t) => {
  const run = await runBench(["--smoke", "--only", "msf,msf-auth", "--transports", "unix", "--source"]);
  t.is(run.code, 0, run.stderr);
  for (const inFlight of [1, 64]) {
    const cells = row(run.stdout, "msf-auth", "unix", inFlight);
    t.truthy(cells, `no msf-auth unix ${inFlight} row in:\n${run.stdout}`);
    t.true(callsPerSecond(cells!) > 0, `msf-auth unix ${inFlight} completed no calls`);
    t.is(cells![11], "msf unix");
    t.regex(cells![4]!, /^\d+\.\d\d$/);
  }
  t.regex(run.stdout, /msf-auth unix 64 in flight: calls\/s ×msf/);
});

test("compiled mode runs the raw baseline over tcp from transpiled JS", async (t) => {
  const run = await runBench(["--smoke", "--only", "raw", "--transports", "tcp"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /compiled/);
  for (const inFlight of [1, 64]) {
    const cells = row(run.stdout, "raw", "tcp", inFlight);
    t.truthy(cells, `no raw tcp ${inFlight} row in:\n${run.stdout}`);
    t.true(callsPerSecond(cells!) > 0);
  }
});

test("a bad option fails with a message naming it", async (t) => {
  const run = await runBench(["--only", "raw,carrier-pigeon"]);
  t.is(run.code, 1);
  t.regex(run.stderr, /--only: unknown "carrier-pigeon"/);
});

test("rows that exist over none of the transports asked for fail with a message", async (t) => {
  const run = await runBench(["--only", "raw,grpc", "--transports", "udp"]);
  t.is(run.code, 1);
  t.regex(run.stderr, /no row to measure: --only raw,grpc runs over none of --transports udp/);
});
