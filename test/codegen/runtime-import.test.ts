// --runtime-import: the specifier generated files import the runtime from. msf's own services
// (the daemon's control API, events) are generated with a relative path, because inside the
// package "msf" only resolves to itself once it is built.
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.js";

test("--runtime-import replaces the runtime module in server, client and scaffold files", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "msf-gen-runtime-import-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await runCli(["idl/flight.proto", "-o", join(dir, "gen"), "--impl", join(dir, "src"), "--runtime-import", "../../index.js"]);
  t.is(result.code, 0, result.stderr);
  const server = readFileSync(join(dir, "gen/flight.server.ts"), "utf8");
  const client = readFileSync(join(dir, "gen/flight.client.ts"), "utf8");
  const scaffold = readFileSync(join(dir, "src/flight_service.impl.ts"), "utf8");
  t.regex(server, /^import type \{ CallContext, MethodDefinition, ServiceDefinition \} from "\.\.\/\.\.\/index\.js";$/m);
  t.regex(client, /^import type \{ CallOptions, Channel \} from "\.\.\/\.\.\/index\.js";$/m);
  t.regex(scaffold, /from "\.\.\/\.\.\/index\.js";$/m);
  for (const text of [server, client, scaffold]) t.notRegex(text, /from "msf"/);
});

test("--runtime-import given twice is a usage error", async (t) => {
  const result = await runCli(["idl/flight.proto", "-o", "/tmp/never-written", "--runtime-import", "a", "--runtime-import", "b"]);
  t.is(result.code, 2);
  t.regex(result.stderr, /--runtime-import takes one module specifier/);
});
