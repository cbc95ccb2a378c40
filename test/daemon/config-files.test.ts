// Refused configs, part 2: what is checked on disk (plugin modules and roots, executables, the
// secrets file) and addresses (checked by the transport registry).
import test from "ava";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { resolveAddress } from "../../runtime/transport/builtin.js";
import { RpcError } from "../../runtime/rpc-error.js";
import { configDir, minimal, plugin, problemsOf, put } from "./config-fixtures.js";

/** What the transport registry says about `uri` (the reason shown in brackets after an address). */
function registryReason(t: { fail(message: string): void }, uri: string): string {
  try {
    resolveAddress(uri);
  } catch (error) {
    if (error instanceof RpcError) return error.rawMessage;
  }
  t.fail(`${uri} was accepted by the registry`);
  return "";
}

test("svc_libs: missing, not a JS/TS module, a folder", async (t) => {
  const dir = configDir(t);
  mkdirSync(join(dir, "folder.js"));
  plugin(dir, "svc.js");
  const config = {
    proc_name: "p",
    proc_svcs: [
      { svc_name: "a", svc_libs: "nope.js" },
      { svc_name: "b", svc_libs: "libmsf_agent1.so" },
      { svc_name: "c", svc_libs: "folder.js" },
      { svc_name: "d", svc_libs: "" },
    ],
  };
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: proc_svcs[0].svc_libs: expected an existing module file, got "nope.js" (<dir>/nope.js does not exist)',
    'msf.json: proc_svcs[1].svc_libs: expected a JS or TS module (.js, .mjs, .cjs, .ts, .mts, .cts), got "libmsf_agent1.so"',
    'msf.json: proc_svcs[2].svc_libs: expected a module file, got "folder.js" (<dir>/folder.js is not a regular file)',
    'msf.json: proc_svcs[3].svc_libs: expected a module path, got ""',
  ]);
});

test("svc_libs must resolve inside plugin_roots, after symlinks; a sibling folder sharing the prefix is outside", async (t) => {
  const dir = configDir(t);
  plugin(dir, "plugins/ok.js");
  plugin(dir, "outside.js");
  plugin(dir, "plugins-evil/x.js");
  symlinkSync(join(dir, "outside.js"), join(dir, "plugins/link.js"));
  const config = {
    proc_name: "p",
    plugin_roots: ["plugins"],
    proc_svcs: [
      { svc_name: "ok", svc_libs: "plugins/ok.js" },
      { svc_name: "up", svc_libs: "plugins/../outside.js" },
      { svc_name: "link", svc_libs: "plugins/link.js" },
      { svc_name: "prefix", svc_libs: "plugins-evil/x.js" },
    ],
  };
  t.deepEqual(await problemsOf(t, dir, config), [
    'msf.json: proc_svcs[1].svc_libs: expected a module inside the plugin roots (<dir>/plugins), got "plugins/../outside.js" (its real path is <dir>/outside.js)',
    'msf.json: proc_svcs[2].svc_libs: expected a module inside the plugin roots (<dir>/plugins), got "plugins/link.js" (its real path is <dir>/outside.js)',
    'msf.json: proc_svcs[3].svc_libs: expected a module inside the plugin roots (<dir>/plugins), got "plugins-evil/x.js" (its real path is <dir>/plugins-evil/x.js)',
  ]);
});

test("plugin_roots: missing folders, files, an empty list", async (t) => {
  const dir = configDir(t);
  put(dir, "file.txt", "x");
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { plugin_roots: ["nope", "file.txt", 3] })), [
    'msf.json: plugin_roots[0]: expected an existing folder, got "nope" (<dir>/nope does not exist)',
    'msf.json: plugin_roots[1]: expected a folder, got "file.txt" (<dir>/file.txt is not a folder)',
    "msf.json: plugin_roots[2]: expected a file path, got 3",
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { plugin_roots: [] })), [
    "msf.json: plugin_roots: expected a non-empty array of folder paths (leave it out for the config's folder), got []",
  ]);
});

test("listen: addresses no transport accepts, duplicates, an empty list, not a list", async (t) => {
  const dir = configDir(t);
  const listen = ["http://x:1", "unix://host/x.sock", "tcp://127.0.0.1", "tcp://127.0.0.1:7000", "tcp://127.0.0.1:7000", 7];
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { listen })), [
    `msf.json: listen[0]: expected an msf address, got "http://x:1" (${registryReason(t, "http://x:1")})`,
    `msf.json: listen[1]: expected an msf address, got "unix://host/x.sock" (${registryReason(t, "unix://host/x.sock")})`,
    `msf.json: listen[2]: expected an msf address, got "tcp://127.0.0.1" (${registryReason(t, "tcp://127.0.0.1")})`,
    'msf.json: listen[4]: expected an address not listed before, got "tcp://127.0.0.1:7000" (listen[3] is the same address)',
    "msf.json: listen[5]: expected an msf address, got 7",
  ]);
  t.true(registryReason(t, "http://x:1").includes("no known transport scheme"));
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { listen: [] })), [
    "msf.json: listen: expected a non-empty array of msf addresses (leave it out for unix:<run_dir>/msfd.sock), got []",
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { listen: "tcp://127.0.0.1:7000" })), [
    'msf.json: listen: expected an array of msf addresses, got "tcp://127.0.0.1:7000"',
  ]);
});

test("control: unix socket files only, and not one of the listen addresses", async (t) => {
  const dir = configDir(t);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { control: "tcp://127.0.0.1:7001" })), [
    'msf.json: control: expected a unix socket file address (unix:/path), got "tcp://127.0.0.1:7001" (the control socket is local: a unix socket file)',
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { control: "unix:@msf-control" })), [
    'msf.json: control: expected a unix socket file address (unix:/path), got "unix:@msf-control" (an abstract socket has no file mode to keep other users out)',
  ]);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { listen: ["unix:run/a.sock"], control: "unix:./run/a.sock" })), [
    'msf.json: control: expected an address that is not also in listen, got "unix:./run/a.sock"',
  ]);
});

test("a run_dir too long for unix socket paths is caught in the defaults and in the instance sockets", async (t) => {
  const dir = configDir(t);
  const runDir = "r".repeat(100 - dir.length);
  const problems = await problemsOf(t, dir, minimal(dir, {}, { run_dir: runDir }));
  const listen = `unix:${dir}/${runDir}/msfd.sock`;
  const control = `unix:${dir}/${runDir}/control.sock`;
  // The value shown is cut at 60 characters; the reason gives it whole.
  const shown = (uri: string) => `${JSON.stringify(uri).slice(0, 59)}…`.replaceAll(dir, "<dir>");
  const reason = (uri: string) => registryReason(t, uri).replaceAll(dir, "<dir>");
  t.deepEqual(problems, [
    `msf.json: listen: expected an msf address (the default, unix:<run_dir>/msfd.sock: set listen or a shorter run_dir), got ${shown(listen)} (${reason(listen)})`,
    `msf.json: control: expected a unix socket file address (the default, unix:<run_dir>/control.sock: set control or a shorter run_dir), got ${shown(control)} (${reason(control)})`,
    `msf.json: proc_svcs[0].svc_name: expected a name whose instance sockets fit in a unix socket path, got "svc" (<dir>/${runDir}/svc.255.999999.sock takes 121 bytes, more than 107: shorten the name or run_dir)`,
  ]);
  t.regex(reason(listen), /the path is longer than 107 bytes/);
});

test("auth: the secrets file must exist, be private, and name the user", async (t) => {
  const dir = configDir(t);
  const auth = { secrets_file: "secrets.json", user: "admin" };
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { auth })), [
    `msf.json: auth.secrets_file: expected a readable, private secrets file, got "secrets.json" (cannot open secrets file <dir>/secrets.json: ENOENT (ENOENT: no such file or directory, open '<dir>/secrets.json'))`,
  ]);
  put(dir, "secrets.json", { admin: "s3cret" }, 0o644);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { auth })), [
    "msf.json: auth.secrets_file: expected a readable, private secrets file, got \"secrets.json\" (secrets file <dir>/secrets.json has mode 0644: group or others may access it, so its secrets may already be known; refusing to use it. Fix: chmod 600 <dir>/secrets.json)",
  ]);
  put(dir, "secrets.json", { operator: "s3cret" }, 0o600);
  t.deepEqual(await problemsOf(t, dir, minimal(dir, {}, { auth })), [
    'msf.json: auth.user: expected a name defined in the secrets file <dir>/secrets.json, got "admin"',
  ]);
});

test("msf_procs: proc_path must be an executable file, or a name found in PATH", async (t) => {
  const dir = configDir(t);
  put(dir, "bin/not-exec.sh", "#!/bin/sh\n", 0o644);
  const config = {
    proc_name: "p",
    msf_procs: [
      { proc_name: "a", proc_path: "./bin/missing" },
      { proc_name: "b", proc_path: "bin/not-exec.sh" },
      { proc_name: "c", proc_path: "./bin" },
      { proc_name: "d", proc_path: "msf-no-such-program" },
    ],
  };
  const problems = await problemsOf(t, dir, config, { PATH: "/usr/bin:/bin:relative/ignored" });
  t.deepEqual(problems, [
    'msf.json: msf_procs[0].proc_path: expected an executable file, got "./bin/missing" (<dir>/bin/missing does not exist)',
    'msf.json: msf_procs[1].proc_path: expected an executable file, got "bin/not-exec.sh" (<dir>/bin/not-exec.sh is not executable)',
    'msf.json: msf_procs[2].proc_path: expected an executable file, got "./bin" (<dir>/bin is not a regular file)',
    'msf.json: msf_procs[3].proc_path: expected an executable file, got "msf-no-such-program" (not found in PATH /usr/bin:/bin)',
  ]);
});
