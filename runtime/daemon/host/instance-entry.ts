/**
 * How an instance is launched: the eval'd bootstrap of a worker thread and the node arguments of
 * a child process. Both run instance-main next to this file: instance-main.js when msf runs
 * compiled, instance-main.ts when it runs from source under tsx (tests, `npm run demo`).
 *
 * TypeScript (msf from source, or a plugin module written in .ts) needs tsx's loader hooks. A
 * child process gets them from its node arguments (`--import tsx`, inherited from msfd's or added
 * here). A worker does not: on Node 20 tsx registers its hooks in the main thread only, and an
 * eval'd worker does not run --import at all on Node 24; so the bootstrap registers tsx itself
 * (tsx/esm/api, resolved from this file) before importing instance-main. Without tsx installed, a
 * .ts plugin fails to load with a message that says so (plugin.ts).
 */
import { fileURLToPath } from "node:url";
import type { InstanceSpec } from "./host-messages.js";

const fromSource = import.meta.url.endsWith(".ts");

/** instance-main's file path, in the same flavour (.ts / .js) as this module. */
const instanceMainUrl = new URL(`./instance-main.${fromSource ? "ts" : "js"}`, import.meta.url);
export const instanceMainPath = fileURLToPath(instanceMainUrl);

/** Source of the eval'd script a worker instance starts with (workerData = the InstanceSpec). */
export function workerSource(spec: InstanceSpec): string {
  const tsxApi = needsTsx(spec.module) ? resolveOrUndefined("tsx/esm/api") : undefined;
  return `
const entry = ${JSON.stringify(instanceMainUrl.href)};
const tsxApi = ${JSON.stringify(tsxApi ?? null)};
async function load() {
  if (tsxApi !== null) (await import(tsxApi)).register();
  await import(entry);
}
load().catch(async (error) => {
  const { parentPort } = await import("node:worker_threads");
  parentPort.postMessage({ t: "error", message: "cannot start instance-main (" + entry + "): " + (error instanceof Error ? error.message : String(error)) });
  process.exit(1);
});
`;
}

/** node's arguments for a process instance: options (execArgv), then instance-main and the spec. */
export function processArguments(spec: InstanceSpec): string[] {
  const execArgv = [...process.execArgv];
  if (needsTsx(spec.module) && !execArgv.some((argument) => argument.includes("tsx"))) {
    const loader = resolveOrUndefined("tsx");
    if (loader !== undefined) execArgv.push(`--import=${loader}`);
  }
  return [...execArgv, instanceMainPath, JSON.stringify(spec)];
}

function needsTsx(module: string): boolean {
  return fromSource || /\.[cm]?ts$/.test(module);
}

function resolveOrUndefined(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}
