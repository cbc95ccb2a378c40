// The daemon benchmark (bench/daemon/run.ts) runs end to end: msfd, its instance, client,
// publisher and subscriber processes, both tables printed, exit status 0. Correctness only: no
// figure's size is checked, only that each row is there.
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");
const RUN_LIMIT_MS = 150_000;

test("tsx bench/daemon/run.ts --smoke prints calls by name and events through msfd", async (t) => {
  t.timeout(RUN_LIMIT_MS + 10_000);
  const child = spawn(process.execPath, ["--import", "tsx", resolve(repoRoot, "bench/daemon/run.ts"), "--smoke"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const limit = setTimeout(() => child.kill("SIGTERM"), RUN_LIMIT_MS);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(limit);
  t.is(code, 0, stderr);
  t.regex(stdout, /calls by name/);
  for (const row of ["direct by URI", "direct by name", "brokered"]) t.regex(stdout, new RegExp(`${row} +(1|64) `), `${row} in:\n${stdout}`);
  t.regex(stdout, /events through msfd/);
});
