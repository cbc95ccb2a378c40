// Runs after the build (npm's `prepare`): makes this package's own bins runnable inside its own
// clone, as `npx msf-gen …` — npm links the bins of dependencies, never the root package's.
// Each bin file is made executable and linked into node_modules/.bin.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { bin = {} } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const binDir = join(root, "node_modules", ".bin");
mkdirSync(binDir, { recursive: true });

for (const [name, target] of Object.entries(bin)) {
  const file = join(root, target);
  if (!existsSync(file)) throw new Error(`bin "${name}": ${target} does not exist; did the build run?`);
  chmodSync(file, 0o755);
  const link = join(binDir, name);
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, file), link);
}
