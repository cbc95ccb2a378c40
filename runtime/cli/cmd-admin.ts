import { ActionReply, ReloadReply } from "../daemon/gen/control.js";
import { SLOW_TIMEOUT_MS, jsonText, withDaemon, type CommandContext } from "./command-context.js";

/**
 * `msf reload [service]`, `msf load <service>`, `msf unload <service>`: what changed, as text or
 * (--json) the reply. An invalid config on reload is msfd's FAILED_PRECONDITION listing the
 * problems (exit 1); msfd keeps running the previous config.
 */
export async function runReload(context: CommandContext, service: string | undefined): Promise<void> {
  const reply = await withDaemon(context, (session) => session.control.reload({ service: service ?? "" }), SLOW_TIMEOUT_MS);
  context.out(context.flags.json ? jsonText(ReloadReply.toJSON(reply), true) : formatReload(reply, service));
}

export async function runLoad(context: CommandContext, service: string): Promise<void> {
  const reply = await withDaemon(context, (session) => session.control.load({ service }), SLOW_TIMEOUT_MS);
  context.out(context.flags.json ? jsonText(ActionReply.toJSON(reply), true) : formatAction("loaded", reply));
}

export async function runUnload(context: CommandContext, service: string): Promise<void> {
  const reply = await withDaemon(context, (session) => session.control.unload({ service }), SLOW_TIMEOUT_MS);
  context.out(context.flags.json ? jsonText(ActionReply.toJSON(reply), true) : formatAction("unloaded", reply));
}

export function formatReload(reply: ReloadReply, service: string | undefined): string {
  const scope = service === undefined ? "config" : `service ${service}`;
  const changes = (["added", "removed", "changed"] as const).filter((kind) => reply[kind].length > 0);
  const head =
    changes.length === 0
      ? `reloaded ${scope}: nothing changed (config generation ${reply.configGeneration})`
      : `reloaded ${scope} (config generation ${reply.configGeneration})`;
  const lines = [head];
  for (const kind of [...changes, ...(reply.unchanged.length > 0 ? (["unchanged"] as const) : [])]) {
    lines.push(`  ${`${kind}:`.padEnd(10)} ${reply[kind].join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatAction(verb: string, reply: ActionReply): string {
  const message = reply.message === "" ? "" : ` (${reply.message})`;
  return `${verb} ${reply.service}: ${reply.state}${message}\n`;
}
