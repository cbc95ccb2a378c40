import { Code } from "../code.js";
import { FATAL_SEQ, SIGNAL, STATE, WorkerState } from "./sync-protocol.js";

/**
 * The source of the tiny eval'd script each blocking-call worker starts with. It imports the
 * worker module next to this file (sync-worker.js when running compiled, sync-worker.ts when
 * running from source under tsx) and, when that import fails, tells the caller why through the
 * port and shared state, exactly as the worker module itself would, so the caller fails fast with
 * the reason instead of waiting out the start limit.
 *
 * From source, the script registers tsx itself (tsx/esm/api, resolved from this file) before the
 * import: a worker inherits `--import tsx` in its execArgv, but on Node 20 tsx registers its loader
 * hooks in the main thread only, and on Node 24 an eval'd worker does not run --import at all, so
 * the .ts module and its ".js" imports would not load. Compiled, it imports sync-worker.js as is.
 */
export function workerBootstrap(selfUrl: string): string {
  const fromSource = selfUrl.endsWith(".ts");
  const entry = new URL(fromSource ? "./sync-worker.ts" : "./sync-worker.js", selfUrl).href;
  const tsxApi = fromSource ? resolveOrUndefined("tsx/esm/api") : undefined;
  return `
const entry = ${JSON.stringify(entry)};
const tsxApi = ${JSON.stringify(tsxApi ?? null)};
async function load() {
  if (tsxApi !== null) (await import(tsxApi)).register();
  await import(entry);
}
load().catch(async (error) => {
  const { workerData } = await import("node:worker_threads");
  const { port, shared } = workerData;
  const reason = error instanceof Error ? error.message : String(error);
  port.postMessage({ seq: ${FATAL_SEQ}, ok: false, code: ${Code.UNAVAILABLE}, message: "blocking-call worker could not load " + entry + ": " + reason });
  Atomics.store(shared, ${STATE}, ${WorkerState.DEAD});
  Atomics.add(shared, ${SIGNAL}, 1);
  Atomics.notify(shared, ${SIGNAL});
  process.exit(1);
});
`;
}

function resolveOrUndefined(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}
