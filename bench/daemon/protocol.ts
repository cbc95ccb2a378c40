// How the daemon benchmark's driver (run.ts) talks to its client processes: arguments on the
// command line, one-line messages on stdout, `<word> <json>`. Each child exits when its stdin
// closes, so none outlives a driver that died.

/** The service msfd runs for the benchmark (svc_name), as clients name it. */
export const SERVICE_NAME = "flight_service";

/** How a call client reaches flight_service. */
export const CALL_ROUTES = ["uri", "name", "brokered"] as const;
export type CallRoute = (typeof CALL_ROUTES)[number];

/** What each route is called in the table. */
export const ROUTE_LABELS: Record<CallRoute, string> = {
  uri: "direct by URI",
  name: "direct by name",
  brokered: "brokered",
};

/**
 * call client and subscriber → driver, once: `window open`, when the measurement window opens
 * (after the warm-up); the driver then samples the processes' CPU times, and again at the result.
 */
export const WINDOW = "window";
export const WINDOW_OPEN = `${WINDOW} open`;
/** client → driver, once: `result <LoadResult as JSON>` (bench/load-loop.ts). */
export const RESULT = "result";
/** subscriber → driver, once its subscription is registered at msfd: `subscribed <id>`. */
export const SUBSCRIBED = "subscribed";
/** driver → publisher: start publishing; later: stop publishing and report. */
export const GO = "go";
export const STOP = "stop";
/** event processes → driver, once: `events <EventRate as JSON>`. */
export const EVENTS = "events";

export interface CallClientArgs {
  readonly route: CallRoute;
  /** uri: the instance's endpoint; name and brokered: msfd's config file. */
  readonly target: string;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface EventArgs {
  /** msfd's broker address. */
  readonly broker: string;
  readonly topic: string;
  readonly payloadBytes: number;
  /** Events per Publish and per Pull at most (createPublisher's and subscribe's maxBatch). */
  readonly batch: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Events counted in a process's measurement window (after its warm-up). */
export interface EventRate {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

export function callClientArgv(args: CallClientArgs): string[] {
  return [args.route, args.target, String(args.inFlight), String(args.warmupMs), String(args.durationMs)];
}

export function parseCallClientArgv(argv: readonly string[]): CallClientArgs {
  const [route = "", target = "", inFlight = "", warmupMs = "", durationMs = ""] = argv;
  if (!(CALL_ROUTES as readonly string[]).includes(route)) throw new Error(`daemon bench client: route must be one of ${CALL_ROUTES.join(", ")}, got "${route}"`);
  if (target === "") throw new Error("daemon bench client: no target (an endpoint or msfd's config file)");
  return {
    route: route as CallRoute,
    target,
    inFlight: integer("in-flight", inFlight, 1),
    warmupMs: integer("warm-up ms", warmupMs, 0),
    durationMs: integer("duration ms", durationMs, 1),
  };
}

export function eventArgv(args: EventArgs): string[] {
  return [args.broker, args.topic, String(args.payloadBytes), String(args.batch), String(args.warmupMs), String(args.durationMs)];
}

export function parseEventArgv(who: string, argv: readonly string[]): EventArgs {
  const [broker = "", topic = "", payloadBytes = "", batch = "", warmupMs = "", durationMs = ""] = argv;
  if (!broker.startsWith("unix:")) throw new Error(`daemon bench ${who}: broker must be a unix: address, got "${broker}"`);
  if (topic === "") throw new Error(`daemon bench ${who}: no topic`);
  return {
    broker,
    topic,
    // At least 4 bytes: every payload starts with its sequence number.
    payloadBytes: integer("payload bytes", payloadBytes, 4),
    batch: integer("batch", batch, 1),
    warmupMs: integer("warm-up ms", warmupMs, 0),
    durationMs: integer("duration ms", durationMs, 1),
  };
}

export function parseEventRate(json: string): EventRate {
  const value = JSON.parse(json) as Partial<EventRate>;
  for (const key of ["events", "seconds", "eventsPerSecond"] as const) {
    if (typeof value[key] !== "number") throw new Error(`event result lacks a numeric "${key}": ${json}`);
  }
  return value as EventRate;
}

function integer(what: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`daemon bench: ${what} must be an integer >= ${min}, got "${text}"`);
  return value;
}
