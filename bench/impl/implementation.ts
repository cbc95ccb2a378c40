// What each implementation under test provides to the benchmark's server and client processes.
// To add one: write `bench/impl/<name>.ts` exporting an `Implementation`, and list it in load.ts.
import type { queryFlightRequest, queryFlightResponse } from "../flight-messages.js";

export const TRANSPORT_NAMES = ["unix", "tcp", "udp", "netlink"] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Transports only msf carries (raw node:net and grpc-js have no datagram transport). */
export const DATAGRAM_TRANSPORTS: readonly TransportName[] = ["udp", "netlink"];

export interface ServerPlace {
  readonly transport: TransportName;
  /**
   * Where a unix server binds (a path in the benchmark's temp dir); unused for the others (tcp and
   * udp: 127.0.0.1, any port; netlink: a port id derived from the server process's pid).
   */
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
