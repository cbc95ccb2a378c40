// The flight messages every implementation encodes and decodes: ts-proto's code as msf-gen
// generates it for idl/flight.proto, so raw, msf and grpc-js pay for exactly the same (de)coding.
export { queryFlightRequest, queryFlightResponse } from "../examples/flight/gen/flight.js";
