// Hostile msfd configs: property-based mutations of a valid msf.json (wrong types, unknown
// fields, huge numbers, paths outside the plugin roots, deep nesting, huge strings) never crash
// the loader: each is either still a valid config or a ConfigError whose every problem names the
// file and a path; a mutation of a known field is reported at that field. Then one real msfd:
// a hostile config at reload is refused and the old one keeps serving.
// MSF_CONFIG_RUNS (default 300) sets the number of generated configs.
import test from "ava";
import fc from "fast-check";
import { mkdirSync, realpathSync, rmSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RpcError } from "msf";
import { ConfigError, parseConfig } from "../../runtime/daemon/config/index.js";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd } from "../daemon/msfd-harness.js";

const runs = Number(process.env.MSF_CONFIG_RUNS ?? "300");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A valid config using every section (the plugin file exists under `dir/plugins`). */
function validConfig(): { [key: string]: Json } {
  return {
    proc_name: "hostile",
    proc_version: "1.0",
    listen: ["unix:./run/msfd.sock"],
    run_dir: "./run",
    plugin_roots: ["./plugins"],
    log: { level: "info" },
    events: { queue_limit: 1024, drop_policy: "block" },
    proc_svcs: [
      {
        svc_name: "flight_service",
        svc_libs: "./plugins/flight.js",
        svc_conf: { a: 1 },
        instances: 2,
        isolation: "process",
        restart: { max_restarts: 5, window_ms: 60000, backoff_initial_ms: 100, backoff_max_ms: 5000, stop_timeout_ms: 5000 },
        memory: { alert_mb: 256, restart_mb: 512, sample_ms: 500 },
        balance: { strategy: "consistent_hash", hash_key: "metadata:user" },
        idempotent_methods: ["queryFlight"],
        env: { K: "V" },
      },
    ],
    msf_procs: [{ proc_idx: 0, proc_name: "legacy", proc_path: "/bin/sh", args: ["-c", "true"] }],
  };
}

/** Every path into the valid config (objects' keys and arrays' indexes), except inside svc_conf (any JSON is valid there). */
function pathsOf(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [];
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
      const path = [...prefix, key];
      paths.push(path);
      if (key !== "svc_conf") paths.push(...pathsOf(child, path));
    }
  }
  return paths;
}

function shown(path: ReadonlyArray<string | number>): string {
  return path.map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? part : `.${part}`)).join("");
}

function deep(depth: number, leaf: Json): Json {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { x: value };
  return value;
}

/** Hostile values: wrong types, huge and odd numbers, paths outside the roots, deep nesting, huge strings. */
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, 4294967297, "", [], {}, "two", "${NOPE}", "$${x}"),
  fc.constantFrom<Json>("../../../etc/passwd", "/etc/passwd", "./plugins/../../outside.js", "/proc/self/environ", "\u0000", "unix:/etc/x.sock"),
  fc.integer({ min: 1, max: 2000 }).map((depth) => deep(depth, 1)),
  fc.integer({ min: 1, max: 200_000 }).map((size) => "z".repeat(size)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { readonly kind: "set"; readonly path: Array<string | number>; readonly value: Json }
  | { readonly kind: "unknown"; readonly path: Array<string | number>; readonly field: string; readonly value: Json }
  | { readonly kind: "delete"; readonly path: Array<string | number> };

const allPaths = pathsOf(validConfig());
const objectPaths = [[], ...allPaths.filter((path) => {
  const value = at(validConfig(), path);
  return value !== null && typeof value === "object" && !Array.isArray(value) && path[path.length - 1] !== "svc_conf" && path[path.length - 1] !== "env";
})];

function at(root: Json, path: ReadonlyArray<string | number>): Json {
  let value: Json | undefined = root;
  for (const part of path) {
    if (value === null || typeof value !== "object") return null;
    value = (value as Record<string | number, Json>)[part];
  }
  return value ?? null;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...allPaths), value: hostileValue }),
  fc.record({
    kind: fc.constant("unknown" as const),
    path: fc.constantFrom(...objectPaths),
    field: fc.oneof(fc.constantFrom("instance", "svc_lib", "__proto__", "constructor", "prototype", "proc_svc"), fc.string({ maxLength: 20 })),
    value: hostileValue,
  }),
  fc.record({ kind: fc.constant("delete" as const), path: fc.constantFrom(...allPaths) }),
);

function apply(config: { [key: string]: Json }, change: Mutation): void {
  const parent = at(config, change.path.slice(0, -1));
  const last = change.path[change.path.length - 1];
  if (change.kind !== "unknown" && (parent === null || typeof parent !== "object")) return;
  if (change.kind === "unknown") {
    const target = at(config, change.path);
    // An earlier change may have replaced the object with something else: nothing to add to.
    if (target === null || typeof target !== "object" || Array.isArray(target)) return;
    Object.defineProperty(target, change.field, { value: change.value, enumerable: true, configurable: true, writable: true });
  } else if (change.kind === "set") (parent as Record<string | number, Json>)[last!] = change.value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete (parent as Record<string | number, Json>)[last!];
}

/** Every problem line: the file, a path or a line:column, then what is wrong; and never the whole of a huge value. */
const PROBLEM = /^msf\.json(:\d+:\d+)?: \S/;

test(`${runs} hostile mutations of a valid config: never a crash, a ConfigError with the path every time`, (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "msf-hostile-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "plugins"));
  writeFileSync(join(dir, "plugins", "flight.js"), "export default { services: [] };\n");
  writeFileSync(join(dir, "outside.js"), "export default { services: [] };\n");
  const file = join(dir, "msf.json");
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
  t.notThrows(() => parseConfig(JSON.stringify(validConfig()), file, env), "the base config is valid");
  let refused = 0;
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (changes) => {
      const config = validConfig();
      for (const change of changes) apply(config, change);
      const text = JSON.stringify(config);
      let error: unknown;
      try {
        parseConfig(text, file, env);
        accepted++;
        return;
      } catch (caught) {
        error = caught;
      }
      if (!(error instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(error)} for ${text.slice(0, 300)}`);
      refused++;
      const problems = error.problems.map((problem) => problem.replaceAll(file, "msf.json"));
      if (problems.length === 0) throw new Error("a ConfigError without problems");
      for (const problem of problems) {
        if (!PROBLEM.test(problem)) throw new Error(`a problem without the file and a path: ${problem.slice(0, 300)}`);
        if (problem.length > 4000) throw new Error(`a problem line of ${problem.length} characters (a huge value shown whole)`);
      }
      // Refused as a document (line:column: nesting too deep): the fields were not looked at.
      if (problems.some((problem) => /^msf\.json:\d+:\d+: /.test(problem))) return;
      // A single wrong-typed known field (not a whole section replaced) is reported at its path.
      if (changes.length === 1 && changes[0]!.kind === "set" && changes[0]!.value !== null && typeof changes[0]!.value === "object") {
        const path = shown(changes[0]!.path);
        if (!problems.some((problem) => problem.includes(path))) throw new Error(`no problem names ${path}: ${problems.join(" | ")}`);
      }
      // An unknown field is named as such, unless its value already failed ${ENV} interpolation (reported first, at its path).
      if (changes.length === 1 && changes[0]!.kind === "unknown" && !problems.some((problem) => /unknown field|environment variable/.test(problem))) {
        throw new Error(`an unknown field ${JSON.stringify(changes[0]!.field)} at ${shown(changes[0]!.path)} not reported: ${problems.join(" | ")}`);
      }
    }),
    { numRuns: runs, seed: Number(process.env.MSF_CONFIG_SEED ?? "20250805") },
  );
  t.log(`${runs} generated configs: ${refused} refused with located problems, ${accepted} still valid`);
  t.true(refused > runs / 2);
});

test("deeply nested and huge documents are refused with a located problem, not a stack overflow", (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "msf-hostile-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "msf.json");
  for (const text of [
    "[".repeat(200_000),
    `{"proc_name":"p","proc_svcs":[],"x":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`,
    `{"proc_name":"p","proc_svcs":[],"svc_conf":${"{\"a\":".repeat(50_000)}1${"}".repeat(50_000)}}`,
    `{"proc_name":"p","proc_svcs":[],"proc_desc":${"1".repeat(5_000_000)}}`,
    `{"proc_name":"p","proc_svcs":[],"proc_desc":"${"d".repeat(5_000_000)}","proc_author":${JSON.stringify({ x: "a".repeat(1_000_000) })}}`,
  ]) {
    const error = t.throws(() => parseConfig(text, file, {}), { instanceOf: ConfigError }, text.slice(0, 60));
    for (const problem of error?.problems ?? []) t.regex(problem.replaceAll(file, "msf.json"), PROBLEM);
    t.true((error?.message.length ?? 0) < 1000, `message of ${error?.message.length} characters`);
  }
  // Many bad services: every one is reported (the loader lists every problem), each line short.
  const many = `{"proc_name":"p","proc_svcs":[${'{"svc_name":"s","svc_libs":"./x.js"},'.repeat(20_000)}{}]}`;
  const error = t.throws(() => parseConfig(many, file, {}), { instanceOf: ConfigError });
  t.true(error!.problems.length > 20_000);
  t.true(error!.problems.every((problem) => PROBLEM.test(problem.replaceAll(file, "msf.json")) && problem.length < 400 + file.length));
  t.log(`20,001 bad services: ${error!.problems.length} problems, a message of ${error!.message.length} characters`);
});

test("a hostile config at reload is refused with its problems and the running config keeps serving", async (t) => {
  const service = { svc_name: "flight_service", svc_libs: flightPlugin };
  const msfd = await startMsfd(t, { proc_name: "p", proc_svcs: [service] }, { args: ["--no-watch"] });
  const control = msfd.controlClient();
  const client = new FlightServiceClient(msfd.broker({ timeoutMs: 3000 }));
  const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
  const hostile: Array<[object, RegExp]> = [
    [{ proc_name: "p", proc_svcs: [{ ...service, svc_libs: "/etc/passwd" }] }, /proc_svcs\[0\]\.svc_libs/],
    [{ proc_name: "p", proc_svcs: [{ ...service, instances: 1e308 }] }, /proc_svcs\[0\]\.instances/],
    [{ proc_name: "p", proc_svcs: [{ ...service, restart: { max_restarts: "x".repeat(100_000) } }] }, /proc_svcs\[0\]\.restart\.max_restarts/],
    [{ proc_name: "p", proc_svcs: [{ ...service, instancez: 2 }] }, /instancez/],
    [{ proc_name: "p", proc_svcs: [service], x: deep(1000, 1) }, /nesting deeper than/],
  ];
  for (const [config, where] of hostile) {
    msfd.writeConfig(config);
    const error = await t.throwsAsync(control.reload({ service: "" }), { instanceOf: RpcError });
    t.is(error!.code, Code.FAILED_PRECONDITION);
    t.regex(error!.message, where);
    t.true(error!.message.length < 20_000, `the reload error is ${error!.message.length} characters`);
    t.is((await client.queryFlight(bison)).errmsg, "success");
  }
  const status = await control.status({});
  t.is(status.configGeneration, 1);
  t.is(status.services[0]!.instances.filter((instance) => instance.state === "ready").length, 1);
});
