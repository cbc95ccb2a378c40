// The flight service's handlers: written by `msf-gen idl/flight.proto -o examples/flight/gen
// --impl examples/flight/src` as a scaffold, then filled in by hand (MSEC's msg_flight_impl.cpp).
import type { CallContext } from "msf";
import { FlightServiceDefinition, type FlightServiceHandlers } from "../gen/flight.server.js";
import type { queryFlightRequest, queryFlightResponse } from "../gen/flight.js";

export const flightServiceHandlers: FlightServiceHandlers = {
  async queryFlight(request: queryFlightRequest, _context: CallContext): Promise<queryFlightResponse> {
    if (request.name === "bison" && request.password === "123456") {
      return { errcode: 0, errmsg: "success", flightsInfo: "{Spring Airlines;9C8835;RMB1230}" };
    }
    return { errcode: -1, errmsg: "invalid user", flightsInfo: "" };
  },
};

export default {
  services: [{ definition: FlightServiceDefinition, handlers: flightServiceHandlers }],
};
