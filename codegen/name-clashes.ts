import { CodegenError, formatLocation } from "./codegen-error.js";
import { syncMethodName } from "./names.js";
import type { ServiceDraft } from "./service-drafts.js";

/**
 * Names that must be unique in one output: the services' TypeScript names (all their generated
 * names derive from it), and per service the client's members, since the async and blocking
 * methods and the `channel` property share one class.
 */
export function checkServiceNames(services: readonly ServiceDraft[]): void {
  const byTypeName = new Map<string, ServiceDraft>();
  for (const service of services) {
    const other = byTypeName.get(service.names.typeName);
    if (other !== undefined) {
      throw new CodegenError(
        `service ${service.protoName} would be generated as ${service.names.typeName}, like service ${other.protoName} (${formatLocation(other.location)}); rename one of them`,
        service.location,
      );
    }
    byTypeName.set(service.names.typeName, service);

    const members = new Map<string, string>([
      ["channel", "the client's channel property"],
      ["constructor", "the client's constructor"],
    ]);
    for (const method of service.methods) {
      const label = `rpc ${service.protoName}.${method.protoName}`;
      for (const [member, role] of [
        [method.localName, `${label}`],
        [syncMethodName(method.localName), `the blocking variant of ${label}`],
      ] as const) {
        const taken = members.get(member);
        if (taken !== undefined) {
          throw new CodegenError(
            `${label} would generate the client method ${member}, which is already ${taken}; rename the rpc`,
            method.location,
          );
        }
        members.set(member, role);
      }
    }
  }
}
