import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { createServer, type Server } from "../server/server.js";
import type { Forwarder } from "./agent/forwarder.js";
import type { Registry } from "./agent/registry.js";
import type { ServedService } from "./host/host-types.js";

/**
 * msfd's broker: the server clients call services by name through. Every proto service an
 * instance reports is served here as a raw service (bodies forwarded as bytes, never decoded)
 * whose calls go to the Forwarder, which picks an instance of the configured service that serves
 * the method. A service's routes stay registered after its instances go away: calls then fail
 * UNAVAILABLE naming it (it may be restarting or reloading) rather than UNIMPLEMENTED.
 *
 * The same server carries other services msfd itself implements (the events service), added by
 * the daemon with addService.
 */
export class Broker {
  readonly server: Server;
  /** Proto service full name → the configured service (svc_name) that first served it. */
  private readonly routed = new Map<string, string>();

  constructor(
    listen: readonly string[],
    auth: { readonly secretsFile: string } | undefined,
    private readonly registry: Registry,
    private readonly forwarder: Forwarder,
    private readonly onConflict: (message: string) => void,
  ) {
    this.server = createServer({
      listen: [...listen],
      unixSocketMode: 0o600,
      ...(auth === undefined ? {} : { auth: { secretsFile: auth.secretsFile, serverName: "msfd" } }),
    });
  }

  /** Makes the methods of `services` (reported by an instance of `serviceName`) callable here. */
  route(serviceName: string, services: readonly ServedService[]): void {
    for (const service of services) {
      const owner = this.routed.get(service.fullName);
      if (owner === serviceName) continue;
      if (owner !== undefined) {
        this.onConflict(`${service.fullName} is served by both "${owner}" and "${serviceName}"; calls go to "${owner}"`);
        continue;
      }
      const methods = service.methods.map((method) => method.fullName);
      this.server.addRawService(service.fullName, methods, (method, body, context, codecId) => {
        const route = this.registry.route(method.id);
        if (route === undefined) {
          throw new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: service "${serviceName}" has no ready instance`);
        }
        return this.forwarder.forward(route.service.name, route.method, codecId, body, context.metadata, context.deadline);
      });
      this.routed.set(service.fullName, serviceName);
    }
  }

  /** The proto services routed to `serviceName`. */
  servicesOf(serviceName: string): string[] {
    return [...this.routed].filter(([, owner]) => owner === serviceName).map(([fullName]) => fullName);
  }
}
