// diffConfig: what a reload has to start, stop, upgrade, and what needs a restart of msfd.
import test from "ava";
import { appendFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { diffConfig } from "../../runtime/daemon/config/index.js";
import { configDir, loadWith, plugin, put } from "./config-fixtures.js";

function base(): Record<string, unknown> {
  return {
    proc_name: "p",
    proc_version: "1",
    proc_svcs: [
      { svc_name: "keep", svc_libs: "keep.js", svc_conf: { a: 1, b: [1, 2] } },
      { svc_name: "grow", svc_libs: "grow.js" },
      { svc_name: "gone", svc_libs: "gone.js" },
    ],
    msf_procs: [
      { proc_name: "stay", proc_path: "sh" },
      { proc_name: "bump", proc_path: "sh", args: ["-c", "exit 0"] },
      { proc_name: "drop", proc_path: "sh" },
    ],
  };
}

function plugins(dir: string): void {
  for (const name of ["keep", "grow", "gone", "new"]) plugin(dir, `${name}.js`);
}

test("services and procs are matched by name: added, removed, changed (with the fields), unchanged", async (t) => {
  const dir = configDir(t);
  plugins(dir);
  const old = await loadWith(dir, base());
  const next = await loadWith(dir, {
    proc_name: "p",
    proc_version: "1",
    proc_svcs: [
      { svc_name: "new", svc_libs: "new.js" },
      { svc_name: "grow", svc_libs: "grow.js", instances: 3, balance: { strategy: "random" } },
      { svc_name: "keep", svc_libs: "keep.js", svc_conf: { b: [1, 2], a: 1 } },
    ],
    msf_procs: [
      { proc_name: "bump", proc_path: "sh", args: ["-c", "exit 1"] },
      { proc_name: "stay", proc_path: "sh" },
      { proc_name: "extra", proc_path: "sh" },
    ],
  });
  const diff = diffConfig(old, next);
  t.deepEqual(diff.added.map((service) => service.name), ["new"]);
  t.deepEqual(diff.removed.map((service) => service.name), ["gone"]);
  t.deepEqual(
    diff.changed.map((change) => [change.old.name, change.fields, change.old.instances, change.next.instances]),
    [["grow", ["instances", "balance"], 1, 3]],
  );
  t.deepEqual(diff.unchanged.map((service) => service.name), ["keep"], "svc_conf compared by content, not key order");
  t.deepEqual(diff.procsAdded.map((proc) => proc.name), ["extra"]);
  t.deepEqual(diff.procsRemoved.map((proc) => proc.name), ["drop"]);
  t.deepEqual(
    diff.procsChanged.map((change) => [change.next.name, change.fields]),
    [
      ["bump", ["index", "args"]],
      ["stay", ["index"]],
    ],
    "proc_idx defaults to the position, which moved for both",
  );
  t.deepEqual(diff.procsUnchanged, []);
  t.deepEqual(diff.daemonChanged, []);
  t.deepEqual(diff.settingsChanged, []);
});

test("the same config read twice has no differences", async (t) => {
  const dir = configDir(t);
  plugins(dir);
  const old = await loadWith(dir, base());
  const next = await loadWith(dir, base());
  const diff = diffConfig(old, next);
  t.deepEqual(
    diff.unchanged.map((service) => service.name),
    ["keep", "grow", "gone"],
  );
  t.deepEqual(diff.procsUnchanged.map((proc) => proc.name), ["stay", "bump", "drop"]);
  t.deepEqual([diff.added, diff.removed, diff.changed, diff.procsAdded, diff.procsRemoved, diff.procsChanged], [[], [], [], [], [], []]);
  t.deepEqual([diff.daemonChanged, diff.settingsChanged], [[], []]);
});

test("a new version of a plugin module (touched, or rewritten) makes its service changed, with msf.json untouched", async (t) => {
  const dir = configDir(t);
  plugins(dir);
  const first = await loadWith(dir, base());
  utimesSync(join(dir, "keep.js"), new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
  const touched = await loadWith(dir, base());
  const afterTouch = diffConfig(first, touched);
  t.deepEqual(
    afterTouch.changed.map((change) => [change.next.name, change.fields]),
    [["keep", ["moduleStamp"]]],
  );
  t.not(afterTouch.changed[0]!.old.moduleStamp, afterTouch.changed[0]!.next.moduleStamp);
  t.deepEqual(afterTouch.unchanged.map((service) => service.name), ["grow", "gone"]);

  appendFileSync(join(dir, "grow.js"), "// v2\n");
  utimesSync(join(dir, "grow.js"), new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
  utimesSync(join(dir, "keep.js"), new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
  const rewritten = await loadWith(dir, base());
  const afterWrite = diffConfig(touched, rewritten);
  t.deepEqual(
    afterWrite.changed.map((change) => [change.next.name, change.fields]),
    [["grow", ["moduleStamp"]]],
    "a size change counts even at the same mtime",
  );
});

test("daemon-level fields are listed: those needing a restart apart from those a reload applies", async (t) => {
  const dir = configDir(t);
  plugins(dir);
  put(dir, "secrets.json", { admin: "a", ops: "b" }, 0o600);
  const old = await loadWith(dir, base());
  const next = await loadWith(dir, {
    ...base(),
    proc_version: "2",
    listen: ["unix:run/other.sock"],
    control: "unix:run/ctl.sock",
    run_dir: "state",
    auth: { secrets_file: "secrets.json", user: "ops" },
    log: { level: "debug" },
    events: { queue_limit: 10 },
    plugin_roots: ["."],
  });
  const diff = diffConfig(old, next);
  t.deepEqual(diff.daemonChanged, ["listen", "control", "run_dir", "auth"]);
  t.deepEqual(diff.settingsChanged, ["proc_version", "log", "events"], "plugin_roots [\".\"] is the default root: no change");
  t.deepEqual(diff.unchanged.map((service) => service.name), ["keep", "grow", "gone"]);
});
