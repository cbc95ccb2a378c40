import { Code } from "../code.js";
import type { CallContext } from "../call-context.js";
import type { MethodDefinition, MethodHandler, ServiceDefinition } from "../definition.js";
import { rawMethod } from "../raw-method.js";
import type { ServerCall } from "./server-call.js";
import { RpcError } from "../rpc-error.js";
import { methodId } from "../wire/header.js";

/** A served method: what the dispatcher needs to run it. */
export interface Route {
  readonly method: MethodDefinition;
  readonly handler: MethodHandler;
  /** Bodies pass through as bytes (rawCodec): the handler gets the request's bytes and returns the reply's. */
  readonly raw: boolean;
  /** The full name of the service it belongs to, for removeService. */
  readonly service: string;
}

/**
 * The handler of a raw service (Server.addRawService): gets a call's body as bytes in the codec
 * the caller used (`codecId`) and returns the reply's bytes in that same codec.
 */
export type RawHandler = (
  method: MethodDefinition<Uint8Array, Uint8Array>,
  body: Uint8Array,
  context: CallContext,
  codecId: number,
) => Promise<Uint8Array>;

/**
 * Methods by wire id (the header's `method` field). A service is added whole or not at all: a
 * method without a handler, or an id already taken, is an error naming what is wrong, raised
 * before anything is registered.
 */
export class Router {
  private readonly routes = new Map<number, Route>();
  private services: string[] = [];

  get(id: number): Route | undefined {
    return this.routes.get(id);
  }

  /** The full names of the services served, for error messages. */
  get serviceNames(): readonly string[] {
    return this.services;
  }

  add(definition: ServiceDefinition, handlers: Record<string, unknown>): void {
    if (typeof definition !== "object" || definition === null || typeof definition.methods !== "object") {
      throw invalid(`addService: expected a service definition (with fullName and methods), got ${describe(definition)}`);
    }
    if (typeof handlers !== "object" || handlers === null) {
      throw invalid(`addService(${definition.fullName}): expected an object of handlers, got ${describe(handlers)}`);
    }
    const added = new Map<number, Route>();
    const localNames = Object.keys(definition.methods);
    for (const localName of localNames) {
      const method = definition.methods[localName]!;
      const handler = handlers[localName];
      if (typeof handler !== "function") {
        throw invalid(`addService(${definition.fullName}): no handler for method "${localName}" (${method.fullName}); got ${describe(handler)}`);
      }
      if (method.id !== methodId(method.fullName)) {
        throw invalid(
          `addService(${definition.fullName}): method ${method.fullName} has id 0x${hex(method.id)}, ` +
            `but methodId("${method.fullName}") is 0x${hex(methodId(method.fullName))}: the definition is out of date`,
        );
      }
      const taken = this.routes.get(method.id) ?? added.get(method.id);
      if (taken !== undefined) {
        throw invalid(
          taken.method.fullName === method.fullName
            ? `addService(${definition.fullName}): method ${method.fullName} is already served`
            : `addService(${definition.fullName}): method id 0x${hex(method.id)} of ${method.fullName} collides with ${taken.method.fullName}`,
        );
      }
      // Bound, so handlers written as methods of a class instance keep their `this`.
      added.set(method.id, { method, handler: (handler as MethodHandler).bind(handlers), raw: false, service: definition.fullName });
    }
    this.commit(definition.fullName, added);
  }

  /**
   * Serves the methods `methodNames` (full names) of service `serviceName` with one RawHandler.
   * Same all-or-nothing rules as add().
   */
  addRaw(serviceName: string, methodNames: readonly string[], handler: RawHandler): void {
    if (typeof handler !== "function") throw invalid(`addRawService(${serviceName}): expected a handler function, got ${describe(handler)}`);
    if (this.services.includes(serviceName)) throw invalid(`addRawService(${serviceName}): the service is already served`);
    const added = new Map<number, Route>();
    for (const fullName of methodNames) {
      if (typeof fullName !== "string" || !fullName.startsWith(`${serviceName}.`)) {
        throw invalid(`addRawService(${serviceName}): method ${JSON.stringify(fullName)} is not "${serviceName}.<rpc>"`);
      }
      const method = rawMethod(fullName);
      const taken = this.routes.get(method.id) ?? added.get(method.id);
      if (taken !== undefined) {
        throw invalid(`addRawService(${serviceName}): method id 0x${hex(method.id)} of ${fullName} is taken by ${taken.method.fullName}`);
      }
      // The dispatcher hands raw routes a ServerCall, whose codec is the raw codec of the call's wire id.
      const serve: MethodHandler = (request, context) => handler(method, request as Uint8Array, context, (context as ServerCall).codec.id);
      added.set(method.id, { method, handler: serve, raw: true, service: serviceName });
    }
    this.commit(serviceName, added);
  }

  /** Stops routing the service's methods (calls already running finish); false if it was not served. */
  remove(serviceName: string): boolean {
    if (!this.services.includes(serviceName)) return false;
    for (const [id, route] of this.routes) if (route.service === serviceName) this.routes.delete(id);
    this.services = this.services.filter((name) => name !== serviceName);
    return true;
  }

  private commit(serviceName: string, added: ReadonlyMap<number, Route>): void {
    for (const [id, route] of added) this.routes.set(id, route);
    this.services.push(serviceName);
  }
}

export function hex(id: number): string {
  return id.toString(16).padStart(8, "0");
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
