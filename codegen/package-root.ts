import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The root of the msf package: the nearest folder above this module that holds both
 * `templates/` and `package.json`. The same walk works from source (`codegen/`, run with tsx)
 * and from the build (`dist/codegen/`), so nothing depends on where the compiler put us.
 * Throws when no such folder exists (a broken install).
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "templates")) && existsSync(join(dir, "package.json"))) {
      cachedRoot = dir;
      return dir;
    }
    if (dirname(dir) === dir) {
      throw new Error(`msf-gen: no folder with templates/ and package.json above ${start}; is msf installed completely?`);
    }
  }
}

/** The msf package's version, as written in its package.json ("0.1.0"). */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: unknown };
  if (typeof manifest.version !== "string") throw new Error("msf-gen: package.json has no version");
  cachedVersion = manifest.version;
  return cachedVersion;
}

let cachedRoot: string | undefined;
let cachedVersion: string | undefined;
