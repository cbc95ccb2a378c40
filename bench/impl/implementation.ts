// What each implementation under test provides to the benchmark's server and client processes.
// To add one: write `bench/impl/<name>.ts` exporting an `Implementation`, and list it in load.ts.
import type { queryFlightRequest, queryFlightResponse } from "../flight-messages.js";

export type TransportName = "unix" | "tcp";

export interface ServerPlace {
  readonly transport: TransportName;
  /** Where a unix server binds (a path in the benchmark's temp dir); unused for tcp (127.0.0.1, any port). */
  readonly socketPath: string;
}

/** A server answering queryFlight with answerFlight(), in the benchmark's server process. */
export interface BenchServer {
  /** What its client connects to, in that client's own syntax ("unix:/p", "tcp://127.0.0.1:p", ...). */
  readonly target: string;
  close(): Promise<void>;
}

/** A client connected to one BenchServer, in the benchmark's client process. */
export interface BenchClient {
  /** One unary queryFlight call. Several may be in flight at once. */
  call(request: queryFlightRequest): Promise<queryFlightResponse>;
  /** One blocking queryFlight call, where the implementation has them. */
  readonly callSync?: (request: queryFlightRequest) => queryFlightResponse;
  close(): Promise<void>;
}

export interface Implementation {
  startServer(place: ServerPlace): Promise<BenchServer>;
  connect(target: string): Promise<BenchClient>;
}
