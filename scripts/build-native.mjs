// npm's `install` step of this package: builds each optional native addon under native/<name>/
// (its own binding.gyp) with the node-gyp that npm bundles. Only N-API is used, so an addon built
// here loads on every Node version >= 20.19.
//
// An addon that does not build is not fatal: the features that use it say so clearly when asked
// for (e.g. the netlink transport), and everything else works. This matters for users installing
// msf from the registry, where npm skips dependency install scripts unless the user approves them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(root, "native");
const nodeGyp = process.env.npm_config_node_gyp;
const addons = existsSync(nativeDir)
  ? readdirSync(nativeDir).filter((name) => existsSync(join(nativeDir, name, "binding.gyp")))
  : [];

for (const name of addons) {
  const cwd = join(nativeDir, name);
  const command = nodeGyp ? [process.execPath, [nodeGyp, "rebuild"]] : ["npx", ["--no-install", "node-gyp", "rebuild"]];
  const result = spawnSync(command[0], command[1], { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status === 0) {
    console.log(`msf: built native addon ${name}`);
  } else {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    console.warn(`msf: native addon ${name} did not build (${result.error?.message ?? `exit ${result.status}`}); features that need it will say so.\n${output}`);
  }
}
