// Regenerates the committed golden output, and the example's generated code:
//   npx tsx test/codegen/update-golden.ts
// Run it after a deliberate change to msf-gen's output, then review the diff before committing.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { goldenCases } from "./golden-cases.js";
import { repoRoot, runCli } from "./run-cli.js";

for (const goldenCase of goldenCases) {
  const root = join("test/golden", goldenCase.name);
  // Scaffolds are written only where none exist, so the old output must go first.
  rmSync(join(repoRoot, root), { recursive: true, force: true });
  const result = await runCli(goldenCase.args(root));
  if (result.code !== 0) {
    process.stderr.write(`golden case ${goldenCase.name} failed (exit ${String(result.code)}):\n${result.stderr}`);
    process.exit(1);
  }
  process.stdout.write(`${goldenCase.name}: regenerated ${root}\n`);
}

const example = await runCli(["idl/flight.proto", "-o", "examples/flight/gen"]);
if (example.code !== 0) {
  process.stderr.write(`examples/flight/gen failed (exit ${String(example.code)}):\n${example.stderr}`);
  process.exit(1);
}
process.stdout.write("example: regenerated examples/flight/gen\n");
