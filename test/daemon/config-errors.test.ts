// Refused configs, part 1: types, unknown and required fields, ranges, enums, cross-field rules,
// duplicates. Every assertion is on the exact text the operator reads.
import test from "ava";
import { configDir, minimal, plugin, problemsOf } from "./config-fixtures.js";

test("wrong types and patterns name the path, what was expected and the value found", async (t) => {
  const dir = configDir(t);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, { svc_name: "9lives", svc_conf: null }, { proc_name: 5, proc_desc: ["x"] })), [
    "msf.json: proc_name: expected a name of [a-z0-9_.-], got 5",
    "msf.json: proc_desc: expected a string, got [\"x\"]",
    "msf.json: proc_svcs[0].svc_name: expected a service name ([A-Za-z_][A-Za-z0-9_.-]*), got \"9lives\"",
  ]);
  t.deepEqual(await problemsOf(t, dir, { proc_name: "Bad Name", proc_svcs: { svc_name: "x" }, log: "debug" }), [
    'msf.json: proc_name: expected a name of [a-z0-9_.-], got "Bad Name"',
    'msf.json: log: expected an object with level and file, got "debug"',
    'msf.json: proc_svcs: expected an array of services, got {"svc_name":"x"}',
  ]);
  t.deepEqual(await problemsOf(t, dir, [1, 2]), ["msf.json: (top level): expected a JSON object with proc_name and proc_svcs, got [1,2]"]);
});

test("long values are shown truncated", async (t) => {
  const dir = configDir(t);
  const long = "x".repeat(100);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, { isolation: long })), [
    `msf.json: proc_svcs[0].isolation: expected one of "worker", "process", got "${"x".repeat(58)}…`,
  ]);
});

test("required fields that are missing are named", async (t) => {
  const dir = configDir(t);
  t.deepEqual(await problemsOf(t, dir, { proc_svcs: [{}], msf_procs: [{}], auth: {} }), [
    "msf.json: proc_name: expected a name of [a-z0-9_.-] (required), got nothing",
    "msf.json: auth.secrets_file: expected a file path (required), got nothing",
    "msf.json: auth.user: expected a user name (required), got nothing",
    "msf.json: proc_svcs[0].svc_name: expected a service name ([A-Za-z_][A-Za-z0-9_.-]*) (required), got nothing",
    "msf.json: proc_svcs[0].svc_libs: expected a module path (required), got nothing",
    "msf.json: msf_procs[0].proc_name: expected a name of [A-Za-z0-9_.-] (required), got nothing",
    "msf.json: msf_procs[0].proc_path: expected an executable path (required), got nothing",
  ]);
});

test("unknown fields are refused with a did-you-mean, or the list of known fields", async (t) => {
  const dir = configDir(t);
  const config = minimal(
    dir,
    { instance: 2, svcName: "x", restart: { maxRestarts: 1, window: 5 }, balance: { stratgey: "random" }, colour: "red" },
    { proc_svc: [], listen_addresses: [] },
  );
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: proc_svc: unknown field, did you mean "proc_svcs"?',
    "msf.json: listen_addresses: unknown field, expected one of proc_name, proc_author, proc_version, proc_desc, listen, control, run_dir, plugin_roots, auth, log, events, proc_svcs, msf_procs",
    'msf.json: proc_svcs[0].instance: unknown field, did you mean "instances"?',
    'msf.json: proc_svcs[0].svcName: unknown field, did you mean "svc_name"?',
    "msf.json: proc_svcs[0].colour: unknown field, expected one of svc_name, svc_libs, svc_conf, instances, isolation, restart, memory, balance, idempotent_methods, cpus, env",
    'msf.json: proc_svcs[0].restart.maxRestarts: unknown field, did you mean "max_restarts"?',
    'msf.json: proc_svcs[0].restart.window: unknown field, did you mean "window_ms"?',
    'msf.json: proc_svcs[0].balance.stratgey: unknown field, did you mean "strategy"?',
  ]);
});

test("numbers out of range, non-integers, huge numbers and strings in integer fields", async (t) => {
  const dir = configDir(t);
  const text = `{
    "proc_name": "p",
    "events": { "queue_limit": 0 },
    "proc_svcs": [
      { "svc_name": "a", "svc_libs": "svc.js", "instances": 257 },
      { "svc_name": "b", "svc_libs": "svc.js", "instances": 2.5 },
      { "svc_name": "c", "svc_libs": "svc.js", "instances": 1e309 },
      { "svc_name": "d", "svc_libs": "svc.js", "instances": "two" },
      { "svc_name": "e", "svc_libs": "svc.js", "instances": 1E+20 },
      { "svc_name": "f", "svc_libs": "svc.js", "instances": 0,
        "restart": { "max_restarts": -1, "window_ms": 3600001, "backoff_initial_ms": 1.50, "stop_timeout_ms": true },
        "memory": { "alert_mb": 0, "restart_mb": 1048577, "sample_ms": 49 },
        "cpus": [1024, -1, "0"] },
      { "svc_name": "g", "svc_libs": "svc.js", "svc_conf": { "limits": [1, -1e400] } }
    ]
  }`;
  plugin(dir, "svc.js");
  t.deepEqual(await problemsOf(t, dir, text), [
    "msf.json: events.queue_limit: expected an integer from 1 to 1000000, got 0",
    "msf.json: proc_svcs[0].instances: expected an integer from 1 to 256, got 257",
    "msf.json: proc_svcs[1].instances: expected an integer from 1 to 256, got 2.5",
    "msf.json: proc_svcs[2].instances: expected an integer from 1 to 256, got 1e309",
    'msf.json: proc_svcs[3].instances: expected an integer from 1 to 256, got "two"',
    "msf.json: proc_svcs[4].instances: expected an integer from 1 to 256, got 1E+20",
    "msf.json: proc_svcs[5].instances: expected an integer from 1 to 256, got 0",
    "msf.json: proc_svcs[5].restart.max_restarts: expected an integer from 0 to 1000, got -1",
    "msf.json: proc_svcs[5].restart.window_ms: expected an integer from 0 to 3600000, got 3600001",
    "msf.json: proc_svcs[5].restart.backoff_initial_ms: expected an integer from 0 to 3600000, got 1.50",
    "msf.json: proc_svcs[5].restart.stop_timeout_ms: expected an integer from 0 to 3600000, got true",
    "msf.json: proc_svcs[5].memory.alert_mb: expected an integer from 1 to 1048576, got 0",
    "msf.json: proc_svcs[5].memory.restart_mb: expected an integer from 1 to 1048576, got 1048577",
    "msf.json: proc_svcs[5].memory.sample_ms: expected an integer from 50 to 60000, got 49",
    "msf.json: proc_svcs[5].cpus[0]: expected an integer from 0 to 1023, got 1024",
    "msf.json: proc_svcs[5].cpus[1]: expected an integer from 0 to 1023, got -1",
    'msf.json: proc_svcs[5].cpus[2]: expected an integer from 0 to 1023, got "0"',
    "msf.json: proc_svcs[6].svc_conf.limits[1]: expected a number a double can hold, got -1e400",
  ]);
});

test("enum values list the allowed ones", async (t) => {
  const dir = configDir(t);
  const config = minimal(dir, { isolation: "thread", balance: { strategy: "fastest" } }, {
    log: { level: "verbose" },
    events: { drop_policy: "drop" },
  });
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "verbose"',
    'msf.json: events.drop_policy: expected one of "block", "drop_oldest", "drop_newest", got "drop"',
    'msf.json: proc_svcs[0].isolation: expected one of "worker", "process", got "thread"',
    'msf.json: proc_svcs[0].balance.strategy: expected one of "round_robin", "random", "consistent_hash", "least_inflight", "dynamic_weight", got "fastest"',
  ]);
});

test("hash_key: its format, required by consistent_hash, refused by other strategies", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const service = (name: string, balance: object) => ({ svc_name: name, svc_libs: "svc.js", balance });
  const config = {
    proc_name: "p",
    proc_svcs: [
      service("a", { strategy: "consistent_hash", hash_key: "header:user" }),
      service("b", { strategy: "consistent_hash", hash_key: "metadata:User" }),
      service("c", { strategy: "consistent_hash" }),
      service("d", { strategy: "least_inflight", hash_key: "field:id" }),
      service("e", { hash_key: "metadata:user" }),
    ],
  };
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: proc_svcs[0].balance.hash_key: expected "metadata:<key>" (key of [a-z0-9_.-]), "field:<name>" or "field:<number>", got "header:user"',
    'msf.json: proc_svcs[1].balance.hash_key: expected "metadata:<key>" (key of [a-z0-9_.-]), "field:<name>" or "field:<number>", got "metadata:User"',
    'msf.json: proc_svcs[2].balance.hash_key: expected "metadata:<key>" (key of [a-z0-9_.-]), "field:<name>" or "field:<number>" (required by consistent_hash), got nothing',
    'msf.json: proc_svcs[3].balance.hash_key: expected no hash_key with strategy "least_inflight" (only consistent_hash uses one), got "field:id"',
    'msf.json: proc_svcs[4].balance.hash_key: expected no hash_key with strategy "round_robin" (only consistent_hash uses one), got "metadata:user"',
  ]);
});

test("cross-field rules: alert_mb <= restart_mb, backoff_initial_ms <= backoff_max_ms", async (t) => {
  const dir = configDir(t);
  const config = minimal(dir, {
    memory: { alert_mb: 600, restart_mb: 512 },
    restart: { backoff_initial_ms: 6000 },
  });
  t.deepEqual(await problemsOf(t, dir, config), [
    "msf.json: proc_svcs[0].restart.backoff_initial_ms: expected at most backoff_max_ms (5000, the default), got 6000",
    "msf.json: proc_svcs[0].memory.alert_mb: expected at most restart_mb (512), got 600 (the alert comes before the restart)",
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, { restart: { backoff_max_ms: 10 } })), [
    "msf.json: proc_svcs[0].restart.backoff_max_ms: expected at least backoff_initial_ms (100), got 10",
  ]);
});

test("duplicate svc_name, proc_name and proc_idx name the entry that had it first", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const config = {
    proc_name: "p",
    proc_svcs: [
      { svc_name: "flight", svc_libs: "svc.js" },
      { svc_name: "other", svc_libs: "svc.js" },
      { svc_name: "flight", svc_libs: "svc.js" },
    ],
    msf_procs: [
      { proc_idx: 1, proc_name: "a", proc_path: "sh" },
      { proc_name: "a", proc_path: "sh" },
      { proc_idx: 0, proc_name: "b", proc_path: "sh" },
    ],
  };
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: proc_svcs[2].svc_name: expected a unique service name, got "flight" (proc_svcs[0] has it too)',
    'msf.json: msf_procs[1].proc_name: expected a unique process name, got "a" (msf_procs[0] has it too)',
    "msf.json: msf_procs[1].proc_idx: expected a unique index (it defaults to the entry's position), got 1 (msf_procs[0] has it too)",
  ]);
});

test("env maps take strings only; cpus must be distinct and not empty", async (t) => {
  const dir = configDir(t);
  const config = minimal(dir, { env: { PORT: 8080, "A=B": "x", OK: "y" }, cpus: [1, 1] });
  t.deepEqual(await problemsOf(t, dir, config), [
    "msf.json: proc_svcs[0].cpus[1]: expected a CPU not listed before, got 1",
    "msf.json: proc_svcs[0].env.PORT: expected a string (environment values are strings: quote numbers), got 8080",
    'msf.json: proc_svcs[0].env["A=B"]: expected an environment variable name (not empty, no "=" or NUL)',
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, { cpus: [], env: [] })), [
    "msf.json: proc_svcs[0].cpus: expected a non-empty array of CPU numbers (leave cpus out for no pinning), got []",
    'msf.json: proc_svcs[0].env: expected an object of environment variables { "NAME": "value" }, got []',
  ]);
});

test("several problems at once are all listed, one per line, in the order of the config", async (t) => {
  const dir = configDir(t);
  const config = minimal(dir, { instances: 0, isolation: "vm", memory: { alert_mb: 9, restart_mb: 8 } }, {
    proc_nam: "x",
    events: { queue_limit: 2e6 },
  });
  const problems = await problemsOf(t, dir, config);
  t.deepEqual(problems, [
    'msf.json: proc_nam: unknown field, did you mean "proc_name"?',
    "msf.json: events.queue_limit: expected an integer from 1 to 1000000, got 2000000",
    "msf.json: proc_svcs[0].instances: expected an integer from 1 to 256, got 0",
    'msf.json: proc_svcs[0].isolation: expected one of "worker", "process", got "vm"',
    "msf.json: proc_svcs[0].memory.alert_mb: expected at most restart_mb (8), got 9 (the alert comes before the restart)",
  ]);
});
