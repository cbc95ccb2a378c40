import test from "ava";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, parseConfig } from "../../runtime/daemon/config/index.js";
import { configDir, env, loadWith, minimal, plugin, put } from "./config-fixtures.js";

const DEFAULT_RESTART = { maxRestarts: 5, windowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 5_000, stopTimeoutMs: 5_000 };
const NO_MEMORY_THRESHOLDS = { alertBytes: undefined, restartBytes: undefined, sampleMs: 500 };
const MB = 1024 * 1024;

test("a seed-format config (libmsf's msf_shell + msf_daemon fields only) loads with every default", async (t) => {
  const dir = configDir(t, "seed");
  const config = await loadConfig(join(dir, "msf.json"), env());
  t.deepEqual(config.proc, { name: "msf_agent", author: "http://luotang.me", version: "beta v1.0", desc: "Micro agent service config file" });
  t.is(config.file, join(dir, "msf.json"));
  t.deepEqual(config.listen, [`unix:${dir}/run/msfd.sock`]);
  t.is(config.control, `unix:${dir}/run/control.sock`);
  t.is(config.runDir, join(dir, "run"));
  t.deepEqual(config.pluginRoots, [dir]);
  t.is(config.auth, undefined);
  t.deepEqual(config.log, { level: "info", file: undefined });
  t.deepEqual(config.events, { queueLimit: 1024, dropPolicy: "block" });
  t.deepEqual(
    config.services.map((service) => ({ ...service, moduleStamp: typeof service.moduleStamp })),
    ["msf_agent1", "msf_agent2"].map((name) => ({
      name,
      module: join(dir, `${name}.js`),
      moduleStamp: "string",
      options: {},
      instances: 1,
      isolation: "worker",
      restart: DEFAULT_RESTART,
      memory: NO_MEMORY_THRESHOLDS,
      balance: { strategy: "round_robin", hashKey: undefined },
      idempotentMethods: [],
      cpus: undefined,
      env: {},
    })),
  );
  t.regex(config.services[0]!.moduleStamp, /^\d+(\.\d+)?:\d+$/);
  t.deepEqual(config.procs, [
    {
      index: 0,
      name: "msf_legacy",
      path: join(dir, "bin/legacy.sh"),
      conf: join(dir, "legacy.conf"),
      args: [],
      restart: DEFAULT_RESTART,
      memory: NO_MEMORY_THRESHOLDS,
      env: {},
    },
  ]);
});

test("a config with every field loads normalized: absolute paths and addresses, bytes, parsed hash keys", async (t) => {
  const dir = configDir(t, "full");
  put(dir, "secrets.json", { admin: "s3cret", other: "x" }, 0o600);
  const config = await loadConfig(join(dir, "msf.json"), env({ FLIGHT_MODE: "fast" }));
  const plugins = join(dir, "plugins");
  t.deepEqual(config.proc, { name: "flight_proc", author: "msf", version: "1.2.0", desc: "Every field of msf.json set" });
  t.deepEqual(config.listen, [`unix:${dir}/run/broker.sock`, "tcp://127.0.0.1:7100", "unix:@msf-config-test"]);
  t.is(config.control, `unix:${dir}/run/ctl.sock`);
  t.is(config.runDir, join(dir, "run"));
  t.deepEqual(config.pluginRoots, [plugins]);
  t.deepEqual(config.auth, { secretsFile: join(dir, "secrets.json"), user: "admin" });
  t.deepEqual(config.log, { level: "debug", file: join(dir, "logs/msfd.log") });
  t.deepEqual(config.events, { queueLimit: 4096, dropPolicy: "drop_oldest" });
  const [flight, booking] = config.services;
  t.deepEqual(
    { ...flight!, moduleStamp: "" },
    {
      name: "flight_service",
      module: join(plugins, "flight_service.impl.js"),
      moduleStamp: "",
      options: { airline: "msf air", seats: [1, 2], nested: { on: true } },
      instances: 2,
      isolation: "process",
      restart: { maxRestarts: 3, windowMs: 10_000, backoffInitialMs: 50, backoffMaxMs: 2000, stopTimeoutMs: 1000 },
      memory: { alertBytes: 256 * MB, restartBytes: 512 * MB, sampleMs: 250 },
      balance: { strategy: "consistent_hash", hashKey: { from: "metadata", name: "user" } },
      idempotentMethods: ["queryFlight"],
      cpus: [0, 1],
      env: { FLIGHT_MODE: "fast" },
    },
  );
  t.is(booking!.module, join(plugins, "booking_service.impl.js"));
  t.deepEqual(booking!.balance, { strategy: "consistent_hash", hashKey: { from: "field", name: "order.id" } });
  t.is(config.procs.length, 1);
  const legacy = config.procs[0]!;
  t.is(legacy.index, 7);
  t.is(legacy.name, "legacy");
  t.regex(legacy.path, /^\/.*\/sh$/, "a bare proc_path is looked up in PATH");
  t.is(legacy.conf, "/etc/legacy.conf");
  t.deepEqual(legacy.args, ["-c", "exec sleep 3600"]);
  t.deepEqual(legacy.restart, { ...DEFAULT_RESTART, maxRestarts: 0 });
  t.deepEqual(legacy.memory, { alertBytes: 64 * MB, restartBytes: undefined, sampleMs: 500 });
  t.deepEqual(legacy.env, { LEGACY: "1" });
});

test("relative paths resolve against the config's folder, not the working directory", async (t) => {
  const dir = configDir(t);
  const sub = join(dir, "etc", "msf");
  plugin(sub, "plugins/a.js");
  put(sub, "msf.json", {
    proc_name: "p",
    run_dir: "../state",
    plugin_roots: ["plugins"],
    listen: ["unix:sock/b.sock", "unix:///abs/b.sock"],
    proc_svcs: [{ svc_name: "a", svc_libs: "plugins/a.js" }],
  });
  const config = await loadConfig(join(sub, "msf.json"), env());
  t.is(config.runDir, join(dir, "etc", "state"));
  t.deepEqual(config.pluginRoots, [join(sub, "plugins")]);
  t.deepEqual(config.listen, [`unix:${sub}/sock/b.sock`, "unix:/abs/b.sock"]);
  t.is(config.control, `unix:${dir}/etc/state/control.sock`);
  t.is(config.services[0]!.module, join(sub, "plugins/a.js"));
});

test("svc_libs through a symlink inside a plugin root is the real file; its real path decides the root", async (t) => {
  const dir = configDir(t);
  plugin(dir, "releases/v2/svc.js");
  mkdirSync(join(dir, "current"));
  symlinkSync(join(dir, "releases/v2/svc.js"), join(dir, "current/svc.js"));
  const config = await loadWith(dir, { proc_name: "p", plugin_roots: ["releases"], proc_svcs: [{ svc_name: "svc", svc_libs: "current/svc.js" }] });
  t.is(config.services[0]!.module, join(dir, "releases/v2/svc.js"));
});

test("integers may come from the environment when the string is exactly one ${...}", async (t) => {
  const dir = configDir(t);
  const config = await loadWith(dir, minimal(dir, { instances: "${INSTANCES:-3}", memory: { restart_mb: "${RESTART_MB}" } }), { RESTART_MB: "100" });
  t.is(config.services[0]!.instances, 3);
  t.is(config.services[0]!.memory.restartBytes, 100 * MB);
});

test("alert_mb equal to restart_mb is allowed; backoff_initial_ms equal to backoff_max_ms too", async (t) => {
  const dir = configDir(t);
  const config = await loadWith(
    dir,
    minimal(dir, { memory: { alert_mb: 5, restart_mb: 5 }, restart: { backoff_initial_ms: 5000, backoff_max_ms: 5000 } }),
  );
  t.is(config.services[0]!.memory.alertBytes, 5 * MB);
  t.is(config.services[0]!.restart.backoffInitialMs, 5000);
});

test("parseConfig reads text as if it were the named file; a file that cannot be read is a ConfigError naming it", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const config = parseConfig('{ "proc_name": "p", "proc_svcs": [{ "svc_name": "svc", "svc_libs": "svc.js" }] }', join(dir, "virtual.json"), env());
  t.is(config.file, join(dir, "virtual.json"));
  t.is(config.services[0]!.module, join(dir, "svc.js"));
  const missing = join(dir, "missing.json");
  const error = await t.throwsAsync(loadConfig(missing, env()), { instanceOf: ConfigError });
  t.deepEqual(error?.problems, [`${missing}: cannot read the config file (ENOENT: no such file or directory, open '${missing}')`]);
});

test("a config without proc_svcs (only msf_procs, as msf_daemon's) loads; a UTF-8 byte order mark is ignored", async (t) => {
  const dir = configDir(t);
  writeFileSync(join(dir, "msf.json"), '\uFEFF{ "proc_name": "d", "msf_procs": [{ "proc_name": "a", "proc_path": "sh" }, { "proc_name": "b", "proc_path": "sh" }] }');
  const config = await loadConfig(join(dir, "msf.json"), env());
  t.deepEqual(config.services, []);
  t.deepEqual(
    config.procs.map((proc) => [proc.index, proc.name, proc.conf]),
    [
      [0, "a", undefined],
      [1, "b", undefined],
    ],
    "proc_idx defaults to the position",
  );
});

test("hash_key field:<number> names a protobuf field by number, a dot reaching into a nested message", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  for (const [key, name] of [["field:1", "1"], ["field:3.2", "3.2"]] as const) {
    const config = await loadWith(dir, minimal(dir, { svc_libs: "./svc.js", balance: { strategy: "consistent_hash", hash_key: key } }));
    t.deepEqual(config.services[0]!.balance.hashKey, { from: "field", name });
  }
});
