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
// npm sets npm_config_node_gyp for its lifecycle scripts; run by hand, use the node-gyp that
// ships inside npm next to this node binary.
const bundledNodeGyp = join(dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
const nodeGyp = process.env.npm_config_node_gyp ?? (existsSync(bundledNodeGyp) ? bundledNodeGyp : undefined);
const addons = existsSync(nativeDir)
  ? readdirSync(nativeDir).filter((name) => existsSync(join(nativeDir, name, "binding.gyp")))
  : [];

// Build against this node's own headers when it has them (no download: node-gyp would fetch
// them from the internet otherwise); npm passes a configured nodedir as npm_config_nodedir.
const localHeaders = resolve(dirname(process.execPath), "..");
const nodeDir =
  process.env.npm_config_nodedir ?? (existsSync(join(localHeaders, "include/node/node_api.h")) ? localHeaders : undefined);
const gypArgs = ["rebuild", ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];

for (const name of addons) {
  const cwd = join(nativeDir, name);
  const command = nodeGyp ? [process.execPath, [nodeGyp, ...gypArgs]] : ["npx", ["--no-install", "node-gyp", ...gypArgs]];
  const result = spawnSync(command[0], command[1], { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status === 0) {
    console.log(`msf: built native addon ${name}`);
  } else {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    console.warn(`msf: native addon ${name} did not build (${result.error?.message ?? `exit ${result.status}`}); features that need it will say so.\n${output}`);
  }
}
