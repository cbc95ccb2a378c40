// One msfd for the daemon benchmark, in its own process: a config in a fresh directory (one
// flight_service instance answering the benchmark's workload, see bench-plugin.ts), started as
// the launcher says (compiled: `node dist/runtime/daemon/msfd.js -c msf.json`; source: through
// tsx from runtime/daemon/msfd.ts), ready when it prints "msfd ready <broker addresses>". The
// instance's own endpoint (for the "direct by URI" row) and pid (for its CPU time) come from the
// control API (Status).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createChannel } from "../../runtime/client/create-channel.js";
import { controlClientAuth } from "../../runtime/daemon/control-credentials.js";
import { ControlClient } from "../../runtime/daemon/gen/control.client.js";
import type { DaemonLauncher } from "./compiled.js";
import { BenchProcess } from "./processes.js";
import { SERVICE_NAME } from "./protocol.js";

/**
 * "process": the instance runs in its own node process, as the server of bench/run.ts's rows
 * does, so "direct by URI" here is bench/run.ts's msf unix row, and the brokered row adds exactly
 * one process (msfd) to the path. (With "worker" the instance would be a thread of msfd, and the
 * direct rows would measure a server sharing a process, its heap and its GC, with the daemon.)
 */
export const ISOLATION = "process";
/** Events held per subscription at msfd (events.queue_limit); the block policy: no event is ever dropped. */
export const EVENT_QUEUE_LIMIT = 4096;

const READY_TIMEOUT_MS = 60_000;
const CONTROL_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;

export interface MsfdInstance {
  readonly configFile: string;
  /** msfd's broker address (unix). */
  readonly broker: string;
  /** The flight_service instance's own endpoint. */
  readonly instanceEndpoint: string;
  readonly pid: number;
  readonly instancePid: number;
  /** SIGTERM (msfd drains and stops its instance; a --cpu-prof profile is written), SIGKILL after a grace; kills leftovers. */
  stop(): Promise<void>;
}

export interface MsfdOptions {
  readonly launcher: DaemonLauncher;
  /** A fresh directory for the config, the plugin module and run/ (sockets, control cookie). */
  readonly dir: string;
  /** node's arguments for msfd (its instances inherit them); default the launcher's. */
  readonly nodeArgs?: readonly string[];
}

export async function startMsfd(options: MsfdOptions): Promise<MsfdInstance> {
  const { launcher, dir } = options;
  mkdirSync(dir, { recursive: true });
  // svc_libs must lie inside plugin_roots (default: the config's folder): a module here
  // re-exports the benchmark's plugin (.mjs: the folder has no package.json saying "module").
  const module = launcher.mode === "source" ? "flight_service.bench.ts" : "flight_service.bench.mjs";
  writeFileSync(join(dir, module), `export { default } from ${JSON.stringify(launcher.plugin)};\n`);
  const configFile = join(dir, "msf.json");
  const config = {
    proc_name: "msf_bench",
    events: { queue_limit: EVENT_QUEUE_LIMIT, drop_policy: "block" },
    proc_svcs: [{ svc_name: SERVICE_NAME, svc_libs: `./${module}`, instances: 1, isolation: ISOLATION }],
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const msfd = new BenchProcess("msfd", launcher.msfd, ["-c", configFile, "--no-watch"], {
    cwd: launcher.cwd,
    nodeArgs: options.nodeArgs ?? launcher.nodeArgs,
  });
  const stop = (): Promise<void> => msfd.stop("SIGTERM", STOP_GRACE_MS);
  try {
    const ready = await msfd.expect("msfd ready", READY_TIMEOUT_MS);
    const broker = ready.split(" ").find((address) => address.startsWith("unix:"));
    if (broker === undefined) throw new Error(`msfd listens on no unix address: "msfd ready ${ready}"`);
    msfd.noteDescendants();
    let instance;
    try {
      instance = await readyInstance(join(dir, "run"));
    } catch (error) {
      const tail = msfd.stderr.trim();
      throw new Error(`${error instanceof Error ? error.message : String(error)}${tail === "" ? "" : `; msfd's log (last lines):\n${tail}`}`, { cause: error });
    }
    msfd.noteDescendants();
    return { configFile, broker, instanceEndpoint: instance.endpoint, pid: msfd.process.pid ?? 0, instancePid: instance.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The one instance's endpoint and pid, from msfd's control API (Status), over the control socket with its cookie. */
async function readyInstance(runDir: string): Promise<{ endpoint: string; pid: number }> {
  const channel = createChannel(`unix:${join(runDir, "control.sock")}`, {
    auth: controlClientAuth({ runDir, auth: undefined }),
    timeoutMs: CONTROL_TIMEOUT_MS,
  });
  try {
    const status = await new ControlClient(channel).status({});
    const instances = status.services.find((service) => service.name === SERVICE_NAME)?.instances.filter((instance) => instance.state === "ready") ?? [];
    const [first, ...others] = instances;
    if (first === undefined || others.length > 0) {
      const seen = status.services.map((service) => `${service.name} [${service.instances.map((instance) => `${instance.id} ${instance.state}`).join(", ")}]`);
      throw new Error(`msfd reports ${instances.length} ready instances of ${SERVICE_NAME}, expected 1; its services: ${seen.join("; ") || "none"}`);
    }
    return { endpoint: first.endpoint, pid: first.pid };
  } finally {
    await channel.close();
  }
}
