// Shared pieces of the config tests: a temp dir per test (removed at teardown) holding a copy of
// a fixture from test/fixtures/configs/, and a way to write a config next to it and load it.
import type { ExecutionContext } from "ava";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, type DaemonConfig } from "../../runtime/daemon/config/index.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "configs");

/**
 * A fresh temp dir (real path: tmpdir may be a symlink, and the config reports real paths),
 * with the fixture `name` copied in when given. Removed at the end of the test.
 */
export function configDir(t: ExecutionContext, fixture?: "seed" | "full"): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "msf-cfg-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  if (fixture !== undefined) cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

/** Writes `content` (text, or an object as JSON) at `dir/relative`, creating folders. */
export function put(dir: string, relative: string, content: string | object, mode = 0o644): string {
  const file = join(dir, relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  chmodSync(file, mode);
  return file;
}

/** A plugin module file at `dir/relative`. */
export function plugin(dir: string, relative: string): string {
  return put(dir, relative, "export default { services: [] };\n");
}

/** The environment the tests load with: nothing from the machine's but PATH. */
export function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...extra };
}

/** Loads `dir/msf.json` after writing `config` there. */
export function loadWith(dir: string, config: string | object, extraEnv: Record<string, string> = {}): Promise<DaemonConfig> {
  put(dir, "msf.json", config);
  return loadConfig(join(dir, "msf.json"), env(extraEnv));
}

/**
 * The problems a config is refused with, written so that assertions can be against the message
 * text: the config's path shown as "msf.json", any other path under `dir` as "<dir>/...".
 */
export async function problemsOf(t: ExecutionContext, dir: string, config: string | object, extraEnv: Record<string, string> = {}): Promise<string[]> {
  const error = await t.throwsAsync(loadWith(dir, config, extraEnv), { instanceOf: ConfigError });
  if (error === undefined) return [];
  t.is(error.message, error.problems.join("\n"));
  return error.problems.map((problem) => problem.replaceAll(`${dir}/msf.json`, "msf.json").replaceAll(dir, "<dir>"));
}

/** The smallest valid config with one service (its plugin is created): fields are added per test. */
export function minimal(dir: string, service: Record<string, unknown> = {}, top: Record<string, unknown> = {}): object {
  plugin(dir, "svc.js");
  return { proc_name: "p", proc_svcs: [{ svc_name: "svc", svc_libs: "svc.js", ...service }], ...top };
}
