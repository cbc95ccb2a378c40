// Bad input: each broken .proto under test/fixtures/protos/broken/ states on its first line
// (`// expect: LINE:COL: message`) the error msf-gen must report. The CLI runs as a real
// child process; it must exit 1, name the file, line and column, and write nothing.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { readTree } from "./golden-cases.js";
import { repoRoot, runCli } from "./run-cli.js";

const brokenDir = "test/fixtures/protos/broken";
const brokenFiles = readdirSync(join(repoRoot, brokenDir))
  .filter((name) => name.endsWith(".proto"))
  .sort();

test("there are broken fixtures for every kind of error", (t) => {
  for (const kind of ["syntax", "unknown-type", "missing-import", "streaming", "clash-service", "clash-method", "clash-message"]) {
    t.true(brokenFiles.includes(`${kind}.proto`), `${kind}.proto is missing`);
  }
});

for (const name of brokenFiles) {
  test(`broken: ${name}`, async (t) => {
    const file = `${brokenDir}/${name}`;
    const expectation = /^\/\/ expect: (.+)$/m.exec(readFileSync(join(repoRoot, file), "utf8"))?.[1];
    if (expectation === undefined) return t.fail(`${file} has no "// expect: LINE:COL: message" line`);

    // The output folder already holds a file: it must come out untouched, and nothing else appear.
    const root = mkdtempSync(join(tmpdir(), "msf-gen-broken-"));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, "gen"));
    writeFileSync(join(root, "gen", "keep.txt"), "user data\n");

    const result = await runCli([file, "-o", join(root, "gen"), "--impl", join(root, "src")]);
    t.is(result.code, 1, result.stderr);
    t.true(result.stderr.includes(`${file}:${expectation}`), `stderr lacks "${file}:${expectation}":\n${result.stderr}`);
    t.regex(result.stderr, /^\S+\.proto:\d+:\d+: /m);
    t.is(result.stdout, "");
    t.deepEqual([...readTree(root).entries()], [["gen/keep.txt", "user data\n"]]);
  });
}

test("a missing input file is an input error", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "msf-gen-missing-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const result = await runCli(["test/fixtures/protos/absent.proto", "-o", join(root, "gen")]);
  t.is(result.code, 1);
  t.regex(result.stderr, /cannot read test\/fixtures\/protos\/absent\.proto: no such file/);
  t.deepEqual(readTree(root).size, 0);
});

test("an error in one of several files writes nothing for the others", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "msf-gen-partial-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const result = await runCli([
    "test/fixtures/protos/flight.proto",
    `${brokenDir}/streaming.proto`,
    "-o",
    join(root, "gen"),
  ]);
  t.is(result.code, 1);
  t.regex(result.stderr, /streaming\.proto:10:3: rpc clock\.Watch uses streaming/);
  t.deepEqual(readTree(root).size, 0);
});

test("usage errors exit with status 2", async (t) => {
  const noOutput = await runCli(["test/fixtures/protos/flight.proto"]);
  t.is(noOutput.code, 2);
  t.regex(noOutput.stderr, /out/);
  const noInput = await runCli(["-o", "gen"]);
  t.is(noInput.code, 2);
  t.regex(noInput.stderr, /no \.proto file given/);
  const unknownOption = await runCli(["test/fixtures/protos/flight.proto", "-o", "gen", "--frobnicate"]);
  t.is(unknownOption.code, 2);
  t.regex(unknownOption.stderr, /frobnicate/);
});

test("--version prints the package version", async (t) => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
  const result = await runCli(["--version"]);
  t.is(result.code, 0);
  t.is(result.stdout.trim(), manifest.version);
});

test("--help describes the options", async (t) => {
  const result = await runCli(["--help"]);
  t.is(result.code, 0);
  for (const option of ["--out", "--proto_path", "--impl"]) t.true(result.stdout.includes(option), option);
});
