// Regenerates every golden case into a temporary folder with the real CLI and compares it,
// file by file, with the committed output under test/golden/. On a difference, the failure
// shows the first differing lines; refresh deliberately with: npx tsx test/codegen/update-golden.ts
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { goldenCases, readTree } from "./golden-cases.js";
import { repoRoot, runCli } from "./run-cli.js";

for (const goldenCase of goldenCases) {
  test(`golden: ${goldenCase.name}`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), `msf-gen-golden-${goldenCase.name}-`));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const result = await runCli(goldenCase.args(root));
    t.is(result.code, 0, result.stderr);
    t.is(result.stderr, "");

    const expected = readTree(join(repoRoot, "test/golden", goldenCase.name));
    const actual = readTree(root);
    t.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), "the set of generated files differs");
    for (const [path, content] of expected) {
      const generated = actual.get(path);
      if (generated === undefined) continue;
      const difference = firstDifference(content, generated);
      t.is(difference, undefined, `${goldenCase.name}/${path} differs from the golden file:\n${difference ?? ""}`);
    }
  });
}

test("examples/flight/gen is msf-gen's output for idl/flight.proto", (t) => {
  // The fixture is a copy of idl/flight.proto, so the example's generated code must equal the golden.
  const read = (path: string): string => readFileSync(join(repoRoot, path), "utf8");
  t.is(read("test/fixtures/protos/flight.proto"), read("idl/flight.proto"));
  t.deepEqual(readTree(join(repoRoot, "examples/flight/gen")), readTree(join(repoRoot, "test/golden/flight/gen")));
});

/** A unified-diff-like excerpt around the first differing line, or undefined when equal. */
function firstDifference(expected: string, actual: string): string | undefined {
  if (expected === actual) return undefined;
  const expectedLines = expected.split("\n");
  const actualLines = actual.split("\n");
  let line = 0;
  while (line < expectedLines.length && line < actualLines.length && expectedLines[line] === actualLines[line]) line++;
  const from = Math.max(0, line - 2);
  const excerpt = [`@@ line ${line + 1} @@`];
  for (let i = from; i < line; i++) excerpt.push(`  ${expectedLines[i]}`);
  if (line < expectedLines.length) excerpt.push(`- ${expectedLines[line]}`);
  if (line < actualLines.length) excerpt.push(`+ ${actualLines[line]}`);
  for (let i = line + 1; i < Math.min(line + 3, actualLines.length); i++) excerpt.push(`  ${actualLines[i]}`);
  return excerpt.join("\n");
}
