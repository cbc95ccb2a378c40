// grpc-js, as a user would run it: HTTP/2 over unix or tcp, default channel and server options.
// Messages are (de)serialized by the same generated ts-proto code as raw and msf (what ts-proto's
// own `outputServices=grpc-js` emits), so the comparison is about the framework, not the codec.
import * as grpc from "@grpc/grpc-js";
import { queryFlightRequest, queryFlightResponse } from "../flight-messages.js";
import { answerFlight } from "../workload.js";
import type { BenchClient, BenchServer, Implementation, ServerPlace } from "./implementation.js";

const QUERY_FLIGHT_PATH = "/flight.flight_service/queryFlight";

const serializeRequest = (message: queryFlightRequest): Buffer => Buffer.from(queryFlightRequest.encode(message).finish());
const deserializeRequest = (bytes: Buffer): queryFlightRequest => queryFlightRequest.decode(bytes);
const serializeResponse = (message: queryFlightResponse): Buffer => Buffer.from(queryFlightResponse.encode(message).finish());
const deserializeResponse = (bytes: Buffer): queryFlightResponse => queryFlightResponse.decode(bytes);

const flightService: grpc.ServiceDefinition = {
  queryFlight: {
    path: QUERY_FLIGHT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializeRequest,
    requestDeserialize: deserializeRequest,
    responseSerialize: serializeResponse,
    responseDeserialize: deserializeResponse,
  },
};

export const grpcJs: Implementation = {
  startServer,
  connect: connectClient,
};

async function startServer(place: ServerPlace): Promise<BenchServer> {
  if (place.transport !== "unix" && place.transport !== "tcp") {
    throw new Error(`grpc bench server: transport ${place.transport} is not served (grpc-js runs over unix and tcp only)`);
  }
  const server = new grpc.Server();
  server.addService(flightService, {
    queryFlight(
      call: grpc.ServerUnaryCall<queryFlightRequest, queryFlightResponse>,
      callback: grpc.sendUnaryData<queryFlightResponse>,
    ) {
      callback(null, answerFlight(call.request));
    },
  });
  const address = place.transport === "unix" ? `unix://${place.socketPath}` : "127.0.0.1:0";
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error === null ? resolve(boundPort) : reject(error),
    );
  });
  return {
    target: place.transport === "unix" ? address : `127.0.0.1:${port}`,
    close() {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}

async function connectClient(target: string): Promise<BenchClient> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + 10_000, (error) => (error === undefined ? resolve() : reject(error)));
  });
  return {
    call(request) {
      return new Promise<queryFlightResponse>((resolve, reject) => {
        client.makeUnaryRequest(QUERY_FLIGHT_PATH, serializeRequest, deserializeResponse, request, (error, response) => {
          if (error !== null) reject(error);
          else if (response === undefined) reject(new Error("grpc-js returned no response and no error"));
          else resolve(response);
        });
      });
    },
    async close() {
      client.close();
    },
  };
}
