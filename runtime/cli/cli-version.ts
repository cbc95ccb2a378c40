import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The msf package's version ("0.1.0"), from the nearest package.json named "msf" above this
 * module: the same walk works from source (runtime/cli/) and from the build (dist/runtime/cli/).
 */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (manifest.name === "msf" && typeof manifest.version === "string") return manifest.version;
    }
    if (dirname(dir) === dir) return "unknown";
  }
}
