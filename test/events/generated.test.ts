// runtime/events/gen/ is msf-gen's output for idl/msf/events.proto, never edited by hand:
// regenerating it gives the committed files byte for byte.
import test from "ava";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { repoRoot, runCli } from "../codegen/run-cli.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test("runtime/events/gen is what msf-gen makes of idl/msf/events.proto", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "msf-events-gen-"));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const result = await runCli(["idl/msf/events.proto", "-I", "idl", "-o", out, "--runtime-import", "../../../index.js"]);
  t.is(result.code, 0, result.stderr);
  const committed = join(repoRoot, "runtime/events/gen");
  const fresh = files(out).map((path) => relative(out, path)).sort();
  t.deepEqual(files(committed).map((path) => relative(committed, path)).sort(), fresh);
  for (const path of fresh) t.is(readFileSync(join(committed, path), "utf8"), readFileSync(join(out, path), "utf8"), `${path} differs: regenerate it`);
});
