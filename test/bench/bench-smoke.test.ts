// The benchmark driver runs end to end: real server and client processes per scenario, the
// table printed, exit status 0. Correctness only: no figure's size is checked, only that each
// requested row is there and that calls completed.
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
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
  t.regex(run.stdout, /^impl\s+transport\s+in-flight\s+calls\/s\s+×raw\s+p50 µs/m);
  for (const impl of ["raw", "msf"]) {
    for (const inFlight of [1, 64]) {
      const cells = row(run.stdout, impl, "unix", inFlight);
      t.truthy(cells, `no ${impl} unix ${inFlight} row in:\n${run.stdout}`);
      t.is(cells!.length, 11, `row ${cells!.join(" | ")}`);
      t.true(callsPerSecond(cells!) > 0, `${impl} unix ${inFlight} completed no calls`);
    }
  }
  t.is(row(run.stdout, "raw", "unix", 1)![4], "1.00");
  t.is(row(run.stdout, "grpc", "unix", 1), undefined);
  t.is(row(run.stdout, "raw", "tcp", 1), undefined);
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
