import { StatusReply } from "../daemon/gen/control.js";
import { jsonText, withDaemon, type CommandContext } from "./command-context.js";
import { formatStatus } from "./status-view.js";

/** `msf status`: tables for people; `--json`: the StatusReply in proto3 JSON (ts-proto toJSON). */
export async function runStatus(context: CommandContext): Promise<void> {
  const status = await withDaemon(context, (session) => session.control.status({}));
  context.out(context.flags.json ? jsonText(StatusReply.toJSON(status), true) : formatStatus(status, Date.now(), context.color));
}
