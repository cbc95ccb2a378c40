// Running msf-gen again over existing output: implementation scaffolds are the user's and are
// never overwritten; generated files are rewritten only when their content changed.
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { readTree } from "./golden-cases.js";
import { repoRoot, runCli } from "./run-cli.js";

test("a second run keeps the user's implementation and restores edited generated files", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "msf-gen-rerun-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const args = ["test/fixtures/protos/flight.proto", "-o", join(root, "gen"), "--impl", join(root, "src")];

  const first = await runCli(args);
  t.is(first.code, 0, first.stderr);
  const implPath = join(root, "src", "flight_service.impl.ts");
  t.true(first.stdout.includes(`wrote ${implPath}`), first.stdout);
  t.deepEqual(
    [...readTree(root).keys()].sort(),
    ["gen/flight.client.ts", "gen/flight.server.ts", "gen/flight.ts", "src/flight_service.impl.ts"],
  );

  // The user fills in the scaffold and, by mistake, edits a generated file.
  const userCode = readFileSync(implPath, "utf8").replace("throw new RpcError", "return { errcode: 0, errmsg: \"\", flightsInfo: \"\" }; // throw new RpcError");
  writeFileSync(implPath, userCode);
  const serverPath = join(root, "gen", "flight.server.ts");
  const serverContent = readFileSync(serverPath, "utf8");
  writeFileSync(serverPath, `${serverContent}// edited\n`);
  // Unchanged generated files must keep their modification time (no rewrite).
  const clientPath = join(root, "gen", "flight.client.ts");
  const pastSeconds = Math.floor(Date.now() / 1000) - 3600;
  utimesSync(clientPath, pastSeconds, pastSeconds);

  const second = await runCli(args);
  t.is(second.code, 0, second.stderr);
  t.true(second.stdout.includes(`kept existing ${implPath}`), second.stdout);
  t.true(second.stdout.includes(`wrote ${serverPath}`), second.stdout);
  t.false(second.stdout.includes(`wrote ${clientPath}`), second.stdout);
  t.is(readFileSync(implPath, "utf8"), userCode);
  t.is(readFileSync(serverPath, "utf8"), serverContent);
  t.is(Math.round(statSync(clientPath).mtimeMs / 1000), pastSeconds);
  // No temporary files are left behind by the atomic writes.
  t.deepEqual(
    [...readTree(root).keys()].sort(),
    ["gen/flight.client.ts", "gen/flight.server.ts", "gen/flight.ts", "src/flight_service.impl.ts"],
  );
});

test("-Idir (protoc's spelling) and inputs named relative to an include folder", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "msf-gen-include-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const result = await runCli(["-Itest/fixtures/protos", "flight.proto", "-o", root]);
  t.is(result.code, 0, result.stderr);
  const golden = readTree(join(repoRoot, "test/golden/flight/gen"));
  t.deepEqual(readTree(root), golden);
});
