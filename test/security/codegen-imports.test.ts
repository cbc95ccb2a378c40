// msf-gen given a .proto whose import does not parse: the error is reported where it is, in the
// imported file (file:line:column), the importer's line is named too, the exit code is 1 and
// nothing is written. Single-file broken inputs are the corpus of test/fixtures/protos/broken/,
// run by test/codegen/errors.test.ts; this covers what its one-file convention cannot express.
import test from "ava";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTree } from "../codegen/golden-cases.js";
import { runCli } from "../codegen/run-cli.js";

const dir = "test/fixtures/protos/broken/imports";

test("an error inside an imported file is reported at its place there, and at the import line of the importer", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "msf-gen-imports-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "gen"));
  writeFileSync(join(root, "gen", "keep.txt"), "user data\n");
  const result = await runCli([`${dir}/imports-broken-file.proto`, "-o", join(root, "gen"), "--impl", join(root, "src")]);
  t.is(result.code, 1, result.stderr);
  t.true(result.stderr.includes(`${dir}/has-error.proto:7:1: Expected ";".`), result.stderr);
  t.true(result.stderr.includes(`${dir}/imports-broken-file.proto:4:1: Import "has-error.proto" was not found or had errors.`), result.stderr);
  t.is(result.stdout, "");
  t.deepEqual([...readTree(root).entries()], [["gen/keep.txt", "user data\n"]]);
});
