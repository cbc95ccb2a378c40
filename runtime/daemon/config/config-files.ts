import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, extname, isAbsolute, join, resolve, sep } from "node:path";
import { readSecretsFile } from "../../auth/credentials.js";
import type { Reader } from "./config-reader.js";

/**
 * The checks of msf.json that look at the filesystem (synchronously: a config is small and read
 * once per load or reload). Relative paths resolve against the config file's folder.
 */

/** `raw` resolved against the config's folder. */
export function resolvePath(reader: Reader, raw: string): string {
  return resolve(reader.dir, raw);
}

/** A plugin root: the real path of an existing folder; undefined (reported) otherwise. */
export function checkPluginRoot(reader: Reader, raw: string, path: string): string | undefined {
  const absolute = resolvePath(reader, raw);
  const real = realPath(absolute);
  if (real === undefined) {
    reader.problems.expected(path, "an existing folder", raw, `${absolute} does not exist`);
    return undefined;
  }
  if (!statSync(real).isDirectory()) {
    reader.problems.expected(path, "a folder", raw, `${real} is not a folder`);
    return undefined;
  }
  return real;
}

export interface ModuleFile {
  readonly module: string;
  readonly moduleStamp: string;
}

const MODULE_EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"];

/**
 * svc_libs: an existing JS/TS module file whose real path (symlinks resolved: a link inside a
 * root that points outside is outside) lies inside one of `roots` (real paths; when empty, only
 * existence is checked).
 */
export function checkModule(reader: Reader, raw: string, path: string, roots: readonly string[]): ModuleFile | undefined {
  const absolute = resolvePath(reader, raw);
  if (!MODULE_EXTENSIONS.includes(extname(absolute))) {
    reader.problems.expected(path, `a JS or TS module (${MODULE_EXTENSIONS.join(", ")})`, raw);
    return undefined;
  }
  const real = realPath(absolute);
  if (real === undefined) {
    reader.problems.expected(path, "an existing module file", raw, `${absolute} does not exist`);
    return undefined;
  }
  const stat = statSync(real);
  if (!stat.isFile()) {
    reader.problems.expected(path, "a module file", raw, `${real} is not a regular file`);
    return undefined;
  }
  // No valid root: plugin_roots itself was reported; a second problem here would only repeat it.
  if (roots.length > 0 && !roots.some((root) => real.startsWith(root.endsWith(sep) ? root : root + sep))) {
    reader.problems.expected(path, `a module inside the plugin roots (${roots.join(", ")})`, raw, `its real path is ${real}`);
    return undefined;
  }
  return { module: real, moduleStamp: `${stat.mtimeMs}:${stat.size}` };
}

/**
 * proc_path: with a "/" in it, a file relative to the config's folder; a bare name is looked up in
 * PATH (of the environment given to the loader), as a shell would. Either way it must be an
 * executable regular file; the result is absolute (symlinks kept: some programs read argv[0]).
 */
export function checkExecutable(reader: Reader, raw: string, path: string): string | undefined {
  if (raw.includes("/")) {
    const absolute = resolvePath(reader, raw);
    const problem = executableProblem(absolute);
    if (problem !== undefined) {
      reader.problems.expected(path, "an executable file", raw, problem);
      return undefined;
    }
    return absolute;
  }
  const folders = (reader.env["PATH"] ?? "").split(delimiter).filter((folder) => isAbsolute(folder));
  const found = folders.map((folder) => join(folder, raw)).find((candidate) => executableProblem(candidate) === undefined);
  if (found === undefined) {
    reader.problems.expected(path, "an executable file", raw, `not found in PATH ${folders.length === 0 ? "(empty)" : folders.join(delimiter)}`);
    return undefined;
  }
  return found;
}

function executableProblem(file: string): string | undefined {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return `${file} does not exist`;
  }
  if (!stat.isFile()) return `${file} is not a regular file`;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return `${file} is not executable`;
  }
  return undefined;
}

/**
 * auth: the secrets file is read and checked now (JSON, private mode) so that a bad one stops the
 * config at load time rather than at the first connection; `user` must be one of its names.
 * Reports at `filePath` or `userPath`; returns the absolute path when both are good.
 */
export function checkSecrets(reader: Reader, raw: string, filePath: string, user: string, userPath: string): string | undefined {
  const absolute = resolvePath(reader, raw);
  let names: string[];
  try {
    names = Object.keys(readSecretsFile(absolute));
  } catch (error) {
    reader.problems.expected(filePath, "a readable, private secrets file", raw, (error as Error).message);
    return undefined;
  }
  if (user !== "" && !names.includes(user)) {
    reader.problems.expected(userPath, `a name defined in the secrets file ${absolute}`, user);
    return undefined;
  }
  return absolute;
}

function realPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
