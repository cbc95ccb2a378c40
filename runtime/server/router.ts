import { Code } from "../code.js";
import type { MethodDefinition, MethodHandler, ServiceDefinition } from "../definition.js";
import { RpcError } from "../rpc-error.js";
import { methodId } from "../wire/header.js";

/** A served method: what the dispatcher needs to run it. */
export interface Route {
  readonly method: MethodDefinition;
  readonly handler: MethodHandler;
}

/**
 * Methods by wire id (the header's `method` field). A service is added whole or not at all: a
 * method without a handler, or an id already taken, is an error naming what is wrong, raised
 * before anything is registered.
 */
export class Router {
  private readonly routes = new Map<number, Route>();
  private readonly services: string[] = [];

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
      added.set(method.id, { method, handler: (handler as MethodHandler).bind(handlers) });
    }
    for (const [id, route] of added) this.routes.set(id, route);
    this.services.push(definition.fullName);
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
