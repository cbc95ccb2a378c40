/**
 * The entry of one instance of a plugin service, in a worker thread (spec in workerData,
 * messages on parentPort; started through instance-entry.ts's bootstrap) or in a child process
 * (spec as argv[2], messages on the IPC channel). Protocol: host-messages.ts.
 *
 * Startup: load the plugin (and derive the CHAP keys when the daemon has a secrets file); a spare
 * stops here until it is assigned a slot. Then init(context), bind the services on the slot's
 * endpoint (socket mode 0600), start(), { t: "ready" }. Any failure on the way is reported as
 * { t: "error" } and the instance exits with code 1.
 * Shutdown on { t: "stop", graceMs }: stop(), server.close({ graceMs }) (calls in flight finish),
 * deinit(), { t: "stopped" }, exit 0. A child process whose parent went away (the IPC channel
 * disconnected) shuts down the same way with a short grace: no orphans. An error thrown by the
 * plugin outside a call is not caught here: it crashes the instance, and the supervisor restarts it.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { createServer, createServerAuth, type Server, type ServerAuth } from "../../index.js";
import { isParentMessage, type ChildMessage, type InstanceSpec, type ParentMessage, type SlotSpec } from "./host-messages.js";
import { LOG_LEVELS, type LogLevel } from "./host-types.js";
import { loadPlugin, servedServices, type Plugin, type PluginContext } from "./plugin.js";

/** Grace of the shutdown that follows the parent's disappearance. */
const ORPHAN_GRACE_MS = 1000;
/** Hard limit of that shutdown: an orphan never lingers longer. */
const ORPHAN_EXIT_MS = 3000;

interface ParentLink {
  send(message: ChildMessage): Promise<void>;
}

const link: ParentLink = isMainThread ? processLink() : workerLink();
const spec = readSpec();
let plugin: Plugin | undefined;
let server: Server | undefined;
let stopping: Promise<void> | undefined;
let assigned: ((slot: SlotSpec) => void) | undefined;
let memoryTimer: NodeJS.Timeout | undefined;

main().catch(async (error: unknown) => {
  await link.send({ t: "error", message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});

async function main(): Promise<void> {
  if (isMainThread) {
    process.on("message", onParentMessage);
    process.on("disconnect", () => {
      setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
      void shutdown(ORPHAN_GRACE_MS);
    });
  } else {
    parentPort!.on("message", onParentMessage);
  }
  plugin = await loadPlugin(spec.module);
  if (orphaned()) return;
  const auth = spec.secretsFile === undefined ? undefined : deriveAuth(spec.secretsFile);
  const slot = spec.slot ?? (await waitForSlot());
  memoryTimer = setInterval(reportMemory, spec.sampleMs);
  memoryTimer.unref();
  const context: PluginContext = {
    service: spec.service,
    instance: slot.id,
    index: slot.index,
    generation: slot.generation,
    options: spec.options,
    log: pluginLog,
  };
  await runHook("init", () => plugin!.init?.(context));
  server = createServer({ listen: [slot.endpoint], unixSocketMode: 0o600, ...(auth !== undefined && { auth }) });
  for (const { definition, handlers } of plugin.services) {
    try {
      server.addService(definition, handlers as never);
    } catch (error) {
      throw new Error(`plugin ${spec.module}: service ${definition.fullName}: ${messageOf(error)}`);
    }
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`cannot serve on ${slot.endpoint}: ${messageOf(error)}`);
  }
  await runHook("start", () => plugin!.start?.());
  if (stopping !== undefined || orphaned()) return;
  await link.send({ t: "ready", services: servedServices(plugin, spec.idempotentMethods) });
  reportMemory();
}

/**
 * A process whose parent went away before the "disconnect" listener was in place (while its
 * modules loaded) would miss the event and, once serving, live on: check, and shut down.
 */
function orphaned(): boolean {
  if (!isMainThread || process.connected) return false;
  setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
  void shutdown(ORPHAN_GRACE_MS);
  return true;
}

function waitForSlot(): Promise<SlotSpec> {
  return new Promise((resolve) => {
    assigned = resolve;
    void link.send({ t: "spare" });
  });
}

function onParentMessage(message: unknown): void {
  if (!isParentMessage(message)) return;
  const parentMessage: ParentMessage = message;
  if (parentMessage.t === "stop") {
    void shutdown(parentMessage.graceMs);
  } else if (assigned !== undefined) {
    const resolve = assigned;
    assigned = undefined;
    resolve(parentMessage.slot);
  }
}

/** Keys derived once, now: a spare has them ready before it is assigned (scrypt, ~70 ms per secret). */
function deriveAuth(secretsFile: string): ServerAuth {
  try {
    return createServerAuth({ secretsFile });
  } catch (error) {
    throw new Error(`cannot set up authentication from ${secretsFile}: ${messageOf(error)}`);
  }
}

/** stop → drain → deinit → stopped → exit. Hook failures are logged, never stop the shutdown. */
function shutdown(graceMs: number): Promise<void> {
  stopping ??= (async () => {
    const started = server !== undefined;
    if (started && plugin?.stop !== undefined) await logFailure("stop", () => plugin!.stop!());
    if (server !== undefined) await server.close({ graceMs });
    if (started && plugin?.deinit !== undefined) await logFailure("deinit", () => plugin!.deinit!());
    clearInterval(memoryTimer);
    await link.send({ t: "stopped" });
    process.exit(0);
  })();
  return stopping;
}

async function runHook(name: string, hook: () => void | Promise<void>): Promise<void> {
  try {
    await hook();
  } catch (error) {
    throw new Error(`plugin ${spec.module}: ${name}() failed: ${messageOf(error)}`);
  }
}

async function logFailure(name: string, hook: () => void | Promise<void>): Promise<void> {
  try {
    await hook();
  } catch (error) {
    pluginLog("error", `${name}() failed: ${messageOf(error)}`);
  }
}

function pluginLog(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  const checkedLevel = LOG_LEVELS.includes(level) ? level : "info";
  void link.send({ t: "log", level: checkedLevel, msg: String(message), fields: plainFields(fields) });
}

/** Fields as JSON data, so a function or a cycle in them cannot break the channel. */
function plainFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (fields === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch (error) {
    return { unserializable: messageOf(error) };
  }
}

function reportMemory(): void {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  void link.send({ t: "memory", rss, heapUsed, heapTotal, external });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readSpec(): InstanceSpec {
  if (!isMainThread) return workerData as InstanceSpec;
  const text = process.argv[2];
  if (text === undefined || process.send === undefined) {
    process.stderr.write("instance-main: started without an instance spec and IPC channel; msfd starts this file, not a person\n");
    process.exit(2);
  }
  return JSON.parse(text) as InstanceSpec;
}

function processLink(): ParentLink {
  return {
    send: (message) =>
      new Promise((resolve) => {
        if (!process.connected) return resolve();
        // The callback also runs (with an error) when the channel closed meanwhile: nothing to do then.
        process.send!(message, undefined, {}, () => resolve());
      }),
  };
}

function workerLink(): ParentLink {
  return {
    send: (message) => {
      // Messages posted before the thread exits are delivered.
      parentPort!.postMessage(message);
      return Promise.resolve();
    },
  };
}
