import { UsageError } from "./cli-errors.js";

/** `msf call flight_service.queryFlight`: a service name as msfd knows it, and a method of it. */
export interface MethodRef {
  readonly service: string;
  readonly method: string;
}

/** A method as the control API describes it (MethodInfo). */
export interface KnownMethod {
  readonly name: string;
  readonly fullName: string;
}

/**
 * Splits at the last dot: service names may contain dots (`[A-Za-z_][A-Za-z0-9_.-]*`), rpc names
 * never do.
 */
export function parseMethodRef(text: string): MethodRef {
  const dot = text.lastIndexOf(".");
  if (dot <= 0 || dot === text.length - 1) {
    throw new UsageError(`${JSON.stringify(text)}: expected <service>.<method>, e.g. flight_service.queryFlight`);
  }
  return { service: text.slice(0, dot), method: text.slice(dot + 1) };
}

/**
 * The method `wanted` names, among `methods`: its rpc name (`QueryFlight`), its full name, or the
 * name generated code uses (`queryFlight`, also `query_flight`): exact first, then ignoring case
 * and underscores when that leaves exactly one. Undefined when none (or several) match.
 */
export function findMethod<M extends KnownMethod>(methods: readonly M[], wanted: string): M | undefined {
  const exact = methods.find((method) => method.name === wanted || method.fullName === wanted);
  if (exact !== undefined) return exact;
  const key = loose(wanted);
  const matches = methods.filter((method) => loose(method.name) === key);
  return matches.length === 1 ? matches[0] : undefined;
}

function loose(name: string): string {
  return name.replace(/_/g, "").toLowerCase();
}
