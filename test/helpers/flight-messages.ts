/**
 * The flight messages for runtime tests: the code msf-gen emits for idl/flight.proto (committed in
 * examples/flight/gen and kept current by the golden tests), under PascalCase names for tests
 * written against QueryFlightRequest/QueryFlightResponse. Each name is both the message's type
 * and its encode/decode object, as in the generated file.
 */
export {
  queryFlightRequest,
  queryFlightRequest as QueryFlightRequest,
  queryFlightResponse,
  queryFlightResponse as QueryFlightResponse,
} from "../../examples/flight/gen/flight.js";
