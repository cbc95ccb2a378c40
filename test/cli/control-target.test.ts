import test from "ava";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError, ExitCode, UsageError } from "../../runtime/cli/cli-errors.js";
import { readDaemonAccess } from "../../runtime/cli/config-access.js";
import { brokerAuth, checkControlSocket, controlAuth, resolveControlTarget, type ConnectionFlags } from "../../runtime/cli/control-target.js";
import { writeControlCookie } from "../../runtime/daemon/control-credentials.js";

const NO_FLAGS: ConnectionFlags = { config: undefined, control: undefined, secretsFile: undefined, user: undefined };
const NO_ENV: NodeJS.ProcessEnv = {};

/** A temp folder with a plugin module file, removed after the test. */
function tempDir(t: import("ava").ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "msf-cli-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "plugin.js"), "export default { services: [] };\n");
  return dir;
}

function writeConfig(dir: string, extra: Record<string, unknown> = {}, name = "msf.json"): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ proc_name: "p", proc_svcs: [{ svc_name: "s", svc_libs: "./plugin.js" }], ...extra }));
  return file;
}

function secrets(dir: string, content: Record<string, string>, name = "secrets.json", mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  chmodSync(file, mode);
  return file;
}

test("the config's defaults: control socket and cookie in <config dir>/run", async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir);
  const target = await resolveControlTarget({ ...NO_FLAGS, config: file }, NO_ENV, "/");
  t.is(target.control, `unix:${join(dir, "run", "control.sock")}`);
  t.is(target.socketPath, join(dir, "run", "control.sock"));
  t.is(target.runDir, join(dir, "run"));
  t.is(target.credentials, undefined);
  t.deepEqual(target.listen, [`unix:${join(dir, "run", "msfd.sock")}`]);
  t.is(target.source, file);
});

test("./msf.json is used when no -c is given; relative paths are the config's", async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { control: "unix:sockets/ctl.sock", run_dir: "state" });
  const target = await resolveControlTarget(NO_FLAGS, NO_ENV, dir);
  t.is(target.socketPath, join(dir, "sockets", "ctl.sock"));
  t.is(target.runDir, join(dir, "state"));
  t.is(target.source, "msf.json");
});

test("--control wins over $MSF_CONTROL, which wins over the config", async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir);
  const env = { MSF_CONTROL: "unix:/from/env.sock" };
  const fromEnv = await resolveControlTarget({ ...NO_FLAGS, config }, env, dir);
  t.is(fromEnv.socketPath, "/from/env.sock");
  t.is(fromEnv.source, "$MSF_CONTROL");
  // The config still says where the cookie is.
  t.is(fromEnv.runDir, join(dir, "run"));
  const fromFlag = await resolveControlTarget({ ...NO_FLAGS, config, control: "unix:rel/c.sock" }, env, dir);
  t.is(fromFlag.socketPath, join(dir, "rel", "c.sock"));
  t.is(fromFlag.source, "--control");
});

test("without a config the cookie is looked for next to the control socket", async (t) => {
  const dir = tempDir(t);
  const target = await resolveControlTarget({ ...NO_FLAGS, control: "unix:///srv/msf/run/control.sock" }, NO_ENV, dir);
  t.is(target.socketPath, "/srv/msf/run/control.sock");
  t.is(target.runDir, "/srv/msf/run");
  t.deepEqual(target.listen, []);
});

test("no control address anywhere, or not a unix socket file: usage errors", async (t) => {
  const dir = tempDir(t);
  await t.throwsAsync(resolveControlTarget(NO_FLAGS, NO_ENV, dir), { instanceOf: UsageError, message: /no control socket given/ });
  await t.throwsAsync(resolveControlTarget({ ...NO_FLAGS, control: "tcp://127.0.0.1:7000" }, NO_ENV, dir), {
    instanceOf: UsageError,
    message: /expected a unix socket file/,
  });
  await t.throwsAsync(resolveControlTarget({ ...NO_FLAGS, control: "unix:@abstract" }, NO_ENV, dir), { instanceOf: UsageError });
});

test("auth in the config: its secrets file and user", async (t) => {
  const dir = tempDir(t);
  const file = secrets(dir, { admin: "correct horse battery staple" });
  const config = writeConfig(dir, { auth: { secrets_file: "./secrets.json", user: "admin" } });
  const target = await resolveControlTarget({ ...NO_FLAGS, config }, NO_ENV, "/");
  t.deepEqual(target.credentials, { secretsFile: file, user: "admin" });
  const auth = controlAuth(target);
  t.is(auth.name, "admin");
  t.is(auth.serverName, "msfd");
  const broker = brokerAuth(target)!;
  t.is(broker.name, "admin");
  t.false("serverName" in broker);
});

test("--secrets-file: its only name, or --user when it has several", async (t) => {
  const dir = tempDir(t);
  const one = secrets(dir, { ops: "s3cret-one" }, "one.json");
  const two = secrets(dir, { ops: "a", dev: "b" }, "two.json");
  const control = "unix:/x/control.sock";
  const single = await resolveControlTarget({ ...NO_FLAGS, control, secretsFile: "one.json" }, NO_ENV, dir);
  t.deepEqual(single.credentials, { secretsFile: one, user: "ops" });
  await t.throwsAsync(resolveControlTarget({ ...NO_FLAGS, control, secretsFile: two }, NO_ENV, dir), { instanceOf: UsageError, message: /defines 2 names: choose one with --user/ });
  const chosen = await resolveControlTarget({ ...NO_FLAGS, control, secretsFile: two, user: "dev" }, NO_ENV, dir);
  t.deepEqual(chosen.credentials, { secretsFile: two, user: "dev" });
  await t.throwsAsync(resolveControlTarget({ ...NO_FLAGS, control, user: "dev" }, NO_ENV, dir), { instanceOf: UsageError, message: /--user needs a secrets file/ });
  // A secrets file that cannot be read is an authentication failure (exit 4).
  const error = await t.throwsAsync(resolveControlTarget({ ...NO_FLAGS, control, secretsFile: "missing.json" }, NO_ENV, dir), { instanceOf: CliError });
  t.is(error!.exitCode, ExitCode.AUTH);
});

test("credentials that cannot be used: exit status 4, no secret in the message", async (t) => {
  const dir = tempDir(t);
  const runDir = join(dir, "run");
  const target = await resolveControlTarget({ ...NO_FLAGS, control: `unix:${join(runDir, "control.sock")}` }, NO_ENV, dir);
  const missing = t.throws(() => controlAuth(target), { instanceOf: CliError });
  t.is(missing!.exitCode, ExitCode.AUTH);
  t.regex(missing!.message, /control\.secrets\.json/);
  writeControlCookie(runDir);
  const cookie = controlAuth(target);
  t.is(cookie.name, "msf");
  t.true(cookie.key !== undefined);
  t.is(brokerAuth(target), undefined);

  const open = secrets(dir, { ops: "do-not-print-me" }, "open.json", 0o644);
  const loose = await resolveControlTarget({ ...NO_FLAGS, control: "unix:/x/c.sock", secretsFile: open, user: "ops" }, NO_ENV, dir);
  const refused = t.throws(() => controlAuth(loose), { instanceOf: CliError });
  t.is(refused!.exitCode, ExitCode.AUTH);
  t.false(refused!.message.includes("do-not-print-me"));
  const stranger = await resolveControlTarget({ ...NO_FLAGS, control: "unix:/x/c.sock", secretsFile: secrets(dir, { ops: "x" }, "s.json"), user: "nobody" }, NO_ENV, dir);
  t.is(t.throws(() => controlAuth(stranger), { instanceOf: CliError })!.exitCode, ExitCode.AUTH);
});

test("no daemon: no control socket, or a file that is not one, is exit status 3", async (t) => {
  const dir = tempDir(t);
  const target = await resolveControlTarget({ ...NO_FLAGS, control: `unix:${join(dir, "control.sock")}` }, NO_ENV, dir);
  const missing = t.throws(() => checkControlSocket(target), { instanceOf: CliError });
  t.is(missing!.exitCode, ExitCode.UNREACHABLE);
  t.regex(missing!.message, /no control socket at .*control\.sock \(ENOENT; from --control\)\. Is msfd running\?/);
  writeFileSync(join(dir, "control.sock"), "");
  t.regex(t.throws(() => checkControlSocket(target), { instanceOf: CliError })!.message, /is not a socket/);
  rmSync(join(dir, "control.sock"));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, "control.sock"), resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.notThrows(() => checkControlSocket(target));
});

test("the rest of the config is not validated: an edited, invalid one still gives its control fields", async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, { control: "unix:./c.sock", proc_svcs: [{ svc_name: "s", svc_libs: "./gone.js", instances: "two" }] });
  const access = await readDaemonAccess(config, NO_ENV);
  t.is(access.control, `unix:${join(dir, "c.sock")}`);
  t.is(access.runDir, join(dir, "run"));
  t.is(access.file, config);
  t.is(access.auth, undefined);
  // ${ENV} interpolation applies as in msfd.
  const interpolated = writeConfig(dir, { run_dir: "${STATE:-state}", proc_svcs: "oops" }, "env.json");
  t.is((await readDaemonAccess(interpolated, { STATE: "var" })).runDir, join(dir, "var"));
  t.is((await readDaemonAccess(interpolated, NO_ENV)).runDir, join(dir, "state"));
});

test("a config whose access fields are unreadable fails naming the file and field (exit 1)", async (t) => {
  const dir = tempDir(t);
  const badControl = writeConfig(dir, { control: 42 }, "a.json");
  const error = await t.throwsAsync(readDaemonAccess(badControl, NO_ENV), { instanceOf: CliError });
  t.is(error!.exitCode, ExitCode.FAILED);
  t.is(error!.message, `${badControl}: control: expected a unix socket file address (unix:/path), got 42`);
  const tcpControl = writeConfig(dir, { control: "tcp://127.0.0.1:1" }, "t.json");
  t.regex((await t.throwsAsync(readDaemonAccess(tcpControl, NO_ENV), { instanceOf: CliError }))!.message, /control: expected a unix socket file address/);
  const badListen = writeConfig(dir, { listen: "unix:/x.sock" }, "l.json");
  t.regex((await t.throwsAsync(readDaemonAccess(badListen, NO_ENV), { instanceOf: CliError }))!.message, /listen: expected an array of msf addresses, got "unix:\/x\.sock"/);
  const badRunDir = writeConfig(dir, { run_dir: "" }, "r.json");
  t.regex((await t.throwsAsync(readDaemonAccess(badRunDir, NO_ENV), { instanceOf: CliError }))!.message, /run_dir: expected a folder path, got ""/);
  const inlineSecret = writeConfig(dir, { auth: { user: "ops", secret: "inline-secret-value" } }, "s.json");
  const auth = await t.throwsAsync(readDaemonAccess(inlineSecret, NO_ENV), { instanceOf: CliError });
  t.regex(auth!.message, /auth: expected an object with secrets_file and user/);
  t.false(auth!.message.includes("inline-secret-value"));
  const notObject = join(dir, "arr.json");
  writeFileSync(notObject, "[1]");
  t.regex((await t.throwsAsync(readDaemonAccess(notObject, NO_ENV), { instanceOf: CliError }))!.message, /expected a JSON object/);
  const file = join(dir, "b.json");
  writeFileSync(file, '{ "proc_name": "p",\n  "control": }');
  const syntax = await t.throwsAsync(readDaemonAccess(file, NO_ENV), { instanceOf: CliError });
  t.regex(syntax!.message, /b\.json:2:\d+/);
  const unset = writeConfig(dir, { control: "unix:${NO_SUCH_VAR}" }, "c.json");
  t.regex((await t.throwsAsync(readDaemonAccess(unset, NO_ENV), { instanceOf: CliError }))!.message, /NO_SUCH_VAR/);
  const missing = await t.throwsAsync(readDaemonAccess(join(dir, "none.json"), NO_ENV), { instanceOf: CliError });
  t.regex(missing!.message, /cannot read the config file/);
});
