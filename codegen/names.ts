/**
 * Name conversions from .proto identifiers to TypeScript names. Two families:
 *
 * - msf's own names for services and rpcs (ts-proto generates no service code here):
 *     service `flight_service` / `FlightService` / `FLIGHT_SERVICE` → `FlightService`, from which
 *     `FlightServiceDefinition`, `FlightServiceHandlers`, `FlightServiceClient` and the handlers
 *     variable `flightServiceHandlers`;
 *     rpc `QueryFlight` / `query_flight` / `queryFlight` / `QUERY_FLIGHT` → `queryFlight`.
 *   Rule: split at underscores (dropping empty parts); if the name has no lower-case letter,
 *   lower-case each part; then capitalise the first letter of each part (PascalCase) or of each
 *   part but the first, whose first letter is lower-cased (camelCase). Inner capitals stay:
 *   `GetAPIValue` → `getAPIValue`.
 *
 * - ts-proto's names for messages and enums, reproduced exactly because generated service code
 *   imports them: see tsProtoTypeName().
 */

/** PascalCase TypeScript name of a service: `flight_service` → `FlightService`. */
export function serviceTypeName(protoName: string): string {
  return words(protoName).map(upperFirst).join("");
}

/** camelCase TypeScript name of an rpc: `QueryFlight`, `query_flight` → `queryFlight`. */
export function methodLocalName(protoName: string): string {
  return words(protoName)
    .map((word, index) => (index === 0 ? lowerFirst(word) : upperFirst(word)))
    .join("");
}

/** The generated names of one service, all derived from serviceTypeName(). */
export interface ServiceNames {
  /** `FlightService` */
  readonly typeName: string;
  /** `FlightServiceDefinition`: the const describing the service for the runtime. */
  readonly definition: string;
  /** `FlightServiceHandlers`: the interface a server implements. */
  readonly handlers: string;
  /** `FlightServiceClient`: the client class. */
  readonly client: string;
  /** `flightServiceHandlers`: the const in the generated implementation scaffold. */
  readonly handlersValue: string;
}

export function serviceNames(protoName: string): ServiceNames {
  const typeName = serviceTypeName(protoName);
  return {
    typeName,
    definition: `${typeName}Definition`,
    handlers: `${typeName}Handlers`,
    client: `${typeName}Client`,
    handlersValue: `${lowerFirst(typeName)}Handlers`,
  };
}

/** The blocking variant of a client method: `queryFlight` → `queryFlightSync`. */
export function syncMethodName(localName: string): string {
  return `${localName}Sync`;
}

/**
 * ts-proto's exported name for a message or enum, given the names from the outermost message
 * down (`["Outer", "Inner"]` for `Outer.Inner`): ts-proto 2.18 `visit.ts` with its default
 * options (snakeToCamel includes "keys", useSnakeTypeName = true, no prefixes or suffixes).
 * Each part goes through ts-proto's snakeToCamel when it contains an underscore, parts are
 * joined with "_", and a result of "Date" or "Function" gets a "Message" suffix.
 * So `queryFlightRequest` stays lower-case-first, `Outer.Inner` → `Outer_Inner`,
 * `Outer.inner_part` → `Outer_innerPart`.
 */
export function tsProtoTypeName(path: readonly string[]): string {
  const joined = path.map(tsProtoSnakeToCamel).join("_");
  return joined === "Date" || joined === "Function" ? `${joined}Message` : joined;
}

/** ts-proto's `maybeSnakeToCamel` (case.ts): only names with an underscore change. */
function tsProtoSnakeToCamel(name: string): string {
  if (!name.includes("_")) return name;
  const hasLowerCase = /[a-z]/.test(name);
  return name
    .split("_")
    .map((word, index) => {
      const cased = hasLowerCase ? word : word.toLowerCase();
      return index === 0 ? cased : upperFirst(cased);
    })
    .join("");
}

/** True for a string usable as a TypeScript identifier (ASCII, as .proto identifiers are). */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name);
}

function words(name: string): string[] {
  const hasLowerCase = /[a-z]/.test(name);
  return name
    .split("_")
    .filter((word) => word !== "")
    .map((word) => (hasLowerCase ? word : word.toLowerCase()));
}

function upperFirst(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function lowerFirst(word: string): string {
  return word.charAt(0).toLowerCase() + word.slice(1);
}
