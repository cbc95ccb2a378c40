import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ConfigError } from "./config-error.js";
import { interpolate } from "./config-interpolate.js";
import { parseJson } from "./config-json.js";
import { showPath } from "./config-path.js";
import { Problems } from "./config-problems.js";
import type { DaemonConfig } from "./config-types.js";
import { validateConfig } from "./config-validate.js";

/**
 * Reads msf.json: JSON (with line:column on syntax errors) → `${ENV}` interpolation →
 * validation and normalization. Throws ConfigError listing every problem; messages name the
 * file as it was given (`msfd -c msf.json` → "msf.json: ..."), relative paths in the config
 * resolve against the file's folder.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the config file (${(error as Error).message})`]);
  }
  return parseConfig(text, file, env);
}

/**
 * `text` as the content of `file` (which need not exist; its folder anchors relative paths and
 * the default plugin root, so plugin modules and roots are looked up on disk, synchronously).
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const absolute = resolve(file);
  const document = parseJson(text, file);
  const interpolation = interpolate(document.value, env);
  const problems = new Problems(file, document.numberText, interpolation.failed);
  for (const line of document.problems) problems.addLine(line);
  for (const { path, message } of interpolation.problems) problems.addLine(`${file}: ${showPath(path)}: ${message}`);
  const reader = { problems, whole: interpolation.whole, dir: dirname(absolute), env };
  const config = validateConfig(reader, interpolation.value, absolute);
  if (config === undefined || problems.count > 0) throw new ConfigError(problems.list);
  return config;
}
