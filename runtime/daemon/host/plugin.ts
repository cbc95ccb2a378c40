import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { ServiceDefinition } from "../../definition.js";
import type { LogLevel, ServedService } from "./host-types.js";

/**
 * The plugin contract: what a module named by svc_libs exports, as its default export or as an
 * export named `plugin` (msf-gen's --impl scaffold produces this shape). The hooks mirror libmsf's
 * msf_svc and run in this order in every instance:
 *   init(context) → the services are bound and listening → start() → (serving) →
 *   stop() → the server drains (calls in flight finish) → deinit()
 * A hook that throws or rejects during startup fails the instance's start; an error thrown
 * outside a call (a timer, an event handler) crashes the instance, which is then restarted.
 */
export interface Plugin {
  readonly services: readonly PluginService[];
  init?(context: PluginContext): void | Promise<void>;
  start?(): void | Promise<void>;
  /** Before the server drains: calls in flight still run. */
  stop?(): void | Promise<void>;
  /** After the server closed. */
  deinit?(): void | Promise<void>;
}

/** One service of a plugin: a generated definition and its handlers (keyed by method localName). */
export interface PluginService {
  readonly definition: ServiceDefinition;
  readonly handlers: object;
}

/** What init() receives. */
export interface PluginContext {
  /** The configured service name (svc_name). */
  readonly service: string;
  /** This instance's id, `${service}#${index}.${generation}`. */
  readonly instance: string;
  readonly index: number;
  readonly generation: number;
  /** svc_conf from the config file, as it is. */
  readonly options: unknown;
  /** Writes to msfd's log, tagged with the service and instance. `fields` must be JSON data. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** A module that is not a loadable plugin; the message names the module and what was found. */
export class PluginLoadError extends Error {
  override readonly name = "PluginLoadError";
}

/**
 * A TypeScript plugin (svc_libs ending in .ts) runs through tsx when msfd itself does not already
 * run under a TypeScript loader: tsx is looked up from the plugin's folder (the user's project,
 * where `npm install -D tsx` puts it) and registered in this instance's thread only. Without tsx
 * the import fails and the error says to install it or compile the plugin.
 */
async function registerTypeScriptLoader(modulePath: string): Promise<void> {
  if (typeScriptLoaderActive) return;
  typeScriptLoaderActive = process.execArgv.some((arg) => /tsx/.test(arg));
  if (typeScriptLoaderActive) return;
  let api: string;
  try {
    api = createRequire(modulePath).resolve("tsx/esm/api");
  } catch {
    return;
  }
  const { register } = (await import(pathToFileURL(api).href)) as { register: () => unknown };
  register();
  typeScriptLoaderActive = true;
}

let typeScriptLoaderActive = false;

const SHAPE = "{ services: [{ definition, handlers }], init?, start?, stop?, deinit? }";
const HOOKS = ["init", "start", "stop", "deinit"] as const;

/** Imports `modulePath` (absolute) and checks its plugin export. Throws PluginLoadError. */
export async function loadPlugin(modulePath: string): Promise<Plugin> {
  let namespace: Record<string, unknown>;
  if (/\.[cm]?ts$/.test(modulePath)) await registerTypeScriptLoader(modulePath);
  try {
    namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /\.[cm]?ts$/.test(modulePath) && /Unknown file extension/.test(reason) ? " (a TypeScript plugin needs tsx, or compile it to .js)" : "";
    throw new PluginLoadError(`cannot load plugin ${modulePath}: ${reason}${hint}`, { cause: error });
  }
  const [exportName, candidate] =
    namespace["default"] !== undefined ? ["default export", namespace["default"]] : ["export plugin", namespace["plugin"]];
  if (candidate === undefined) {
    throw new PluginLoadError(
      `cannot load plugin ${modulePath}: expected a default export (or an export named plugin) of the shape ${SHAPE}; ${describeExports(namespace)}`,
    );
  }
  const problem = checkPlugin(candidate);
  if (problem !== undefined) {
    throw new PluginLoadError(`cannot load plugin ${modulePath}: its ${exportName} ${problem}; expected ${SHAPE}`);
  }
  return candidate as Plugin;
}

/** What is wrong with `value` as a Plugin, or undefined when nothing is. */
export function checkPlugin(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return `is ${describe(value)}`;
  const plugin = value as Record<string, unknown>;
  const services = plugin["services"];
  if (!Array.isArray(services)) return `has services = ${describe(services)}, not an array`;
  if (services.length === 0) return "has an empty services array";
  for (const [index, entry] of services.entries()) {
    const problem = checkService(entry);
    if (problem !== undefined) return `has services[${index}] ${problem}`;
  }
  for (const hook of HOOKS) {
    if (plugin[hook] !== undefined && typeof plugin[hook] !== "function") return `has ${hook} = ${describe(plugin[hook])}, not a function`;
  }
  return undefined;
}

function checkService(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null) return `= ${describe(entry)}, not { definition, handlers }`;
  const { definition, handlers } = entry as { definition?: unknown; handlers?: unknown };
  if (typeof definition !== "object" || definition === null) return `.definition = ${describe(definition)}, not a generated ServiceDefinition`;
  const { fullName, methods } = definition as { fullName?: unknown; methods?: unknown };
  if (typeof fullName !== "string" || typeof methods !== "object" || methods === null) {
    return ".definition is not a generated ServiceDefinition (it needs fullName and methods)";
  }
  if (typeof handlers !== "object" || handlers === null) return `.handlers = ${describe(handlers)}, not an object of functions`;
  return undefined;
}

/**
 * The services as the agent routes them. A method is idempotent when its .proto says so or when
 * the config lists it (by name, localName or fullName) in idempotent_methods.
 */
export function servedServices(plugin: Plugin, idempotentMethods: readonly string[]): ServedService[] {
  const marked = new Set(idempotentMethods);
  return plugin.services.map(({ definition }) => ({
    name: definition.name,
    fullName: definition.fullName,
    methods: Object.values(definition.methods).map((method) => ({
      name: method.name,
      localName: method.localName,
      fullName: method.fullName,
      id: method.id,
      idempotent: method.idempotent || marked.has(method.name) || marked.has(method.localName) || marked.has(method.fullName),
    })),
  }));
}

function describeExports(namespace: Record<string, unknown>): string {
  const names = Object.keys(namespace);
  if (names.length === 0) return "found no exports at all";
  return `found only ${names.map((name) => `${name} (${describe(namespace[name])})`).join(", ")}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return typeof value === "undefined" ? "undefined" : `the ${typeof value} ${String(value)}`;
}
