import type { MethodInfo } from "../daemon/gen/control.js";
import { CliError, ExitCode } from "./cli-errors.js";
import type { DaemonSession } from "./daemon-session.js";
import { findMethod, type MethodRef } from "./method-ref.js";

/**
 * The method `ref` names, as msfd's instances serve it (Resolve): its full name is what the
 * broker routes by. msfd answers NOT_FOUND (listing its services) for an unknown service; an
 * unknown method fails here listing the service's methods.
 */
export async function resolveMethod(session: DaemonSession, ref: MethodRef): Promise<MethodInfo> {
  const reply = await session.control.resolve({ service: ref.service });
  if (reply.methods.length === 0) {
    throw new CliError(ExitCode.FAILED, `service "${ref.service}" has no ready instance, so its methods are not known (see msf status)`);
  }
  const method = findMethod(reply.methods, ref.method);
  if (method === undefined) {
    const known = reply.methods.map((each) => `  ${ref.service}.${each.name}  (${each.fullName})`).join("\n");
    throw new CliError(ExitCode.FAILED, `service "${ref.service}" has no method "${ref.method}"; its methods:\n${known}`);
  }
  return method;
}
