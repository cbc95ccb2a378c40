// The benchmark's workload, shared by every implementation: MSEC's flight query with a 1000-byte
// answer. Each server answers with answerFlight(); each client checks every reply with
// isFlightAnswer(), so no implementation can skip decoding or encoding.
import { queryFlightRequest, queryFlightResponse } from "./flight-messages.js";

export const FLIGHTS_INFO_BYTES = 1000;

/** The request every client sends. */
export const FLIGHT_REQUEST: queryFlightRequest = {
  name: "bison",
  password: "123456",
  departureCity: "sz",
  destinationCity: "xz",
};

const FLIGHTS_INFO = "x".repeat(FLIGHTS_INFO_BYTES);

/** The handler body of every server: synchronous, the same work in all of them. */
export function answerFlight(request: queryFlightRequest): queryFlightResponse {
  if (request.name === "bison" && request.password === "123456") {
    return { errcode: 0, errmsg: "success", flightsInfo: FLIGHTS_INFO };
  }
  return { errcode: -1, errmsg: "invalid user", flightsInfo: "" };
}

/** True when `response` is the answer to FLIGHT_REQUEST; cheap enough to run on every reply. */
export function isFlightAnswer(response: queryFlightResponse): boolean {
  return response.errcode === 0 && response.errmsg === "success" && response.flightsInfo.length === FLIGHTS_INFO_BYTES;
}
