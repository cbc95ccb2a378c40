import type { MethodDefinition, ServiceDefinition } from "msf";
import { methodId } from "msf/internal";
import { QueryFlightRequest, QueryFlightResponse } from "./flight-messages.js";

/** The service definition msf-gen would emit for flight.flight_service (hand-written for tests). */
export const queryFlightMethod: MethodDefinition<QueryFlightRequest, QueryFlightResponse> = {
  name: "queryFlight",
  localName: "queryFlight",
  fullName: "flight.flight_service.queryFlight",
  id: methodId("flight.flight_service.queryFlight"),
  requestType: QueryFlightRequest,
  responseType: QueryFlightResponse,
  idempotent: false,
};

export const FlightServiceDefinition = {
  name: "flight_service",
  fullName: "flight.flight_service",
  methods: { queryFlight: queryFlightMethod },
} as const satisfies ServiceDefinition;

/** A method of the same message types under any name: for tests that need more methods (waiting, counting, ...). */
export function flightMethod(fullName: string): MethodDefinition<QueryFlightRequest, QueryFlightResponse> {
  const localName = fullName.slice(fullName.lastIndexOf(".") + 1);
  return { ...queryFlightMethod, name: localName, localName, fullName, id: methodId(fullName) };
}

/** A service definition with one method per name (all QueryFlightRequest → QueryFlightResponse). */
export function testService<Names extends string>(
  fullName: string,
  names: readonly Names[],
): ServiceDefinition<Record<Names, MethodDefinition<QueryFlightRequest, QueryFlightResponse>>> {
  const methods = {} as Record<Names, MethodDefinition<QueryFlightRequest, QueryFlightResponse>>;
  for (const name of names) methods[name] = flightMethod(`${fullName}.${name}`);
  return { name: fullName.slice(fullName.lastIndexOf(".") + 1), fullName, methods };
}

export const bison: QueryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
