// The msfd plugin of the daemon benchmark: the flight service answering with the benchmark's
// workload (bench/workload.ts: a 1000-byte flightsInfo), the same handler bench/impl/msf.ts
// serves, so the rows through msfd and bench/run.ts's msf rows do the same work per call. The
// example plugin (examples/flight/src) answers a 32-byte flightsInfo, which the workload's
// check rejects.
import { FlightServiceDefinition } from "../../examples/flight/gen/flight.server.js";
import { answerFlight } from "../workload.js";

export default {
  services: [{ definition: FlightServiceDefinition, handlers: { queryFlight: answerFlight } }],
};
