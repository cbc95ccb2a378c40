// The raw baseline: node:net, raw-framing.ts, the generated flight messages, nothing else.
// The server decodes every request and encodes every response; the client matches replies to
// calls by id. No deadlines, metadata, errors on the wire or reconnects: the physical limit.
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { queryFlightRequest, queryFlightResponse } from "../flight-messages.js";
import { answerFlight } from "../workload.js";
import { FrameReader, FrameWriter } from "./raw-framing.js";
import type { BenchClient, BenchServer, Implementation, ServerPlace } from "./implementation.js";

export const raw: Implementation = {
  startServer,
  connect: connectClient,
};

async function startServer(place: ServerPlace): Promise<BenchServer> {
  if (place.transport !== "unix" && place.transport !== "tcp") {
    throw new Error(`raw bench server: transport ${place.transport} is not served (raw node:net runs over unix and tcp only)`);
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (place.transport === "tcp") socket.setNoDelay(true);
    const writer = new FrameWriter(socket);
    const reader = new FrameReader((id, body) => {
      const response = answerFlight(queryFlightRequest.decode(body));
      writer.add(id, queryFlightResponse.encode(response).finish());
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on("error", () => socket.destroy());
  });
  if (place.transport === "unix") server.listen(place.socketPath);
  else server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const target =
    place.transport === "unix"
      ? `unix:${place.socketPath}`
      : `tcp://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  return {
    target,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface PendingCall {
  resolve(response: queryFlightResponse): void;
  reject(error: Error): void;
}

async function connectClient(target: string): Promise<BenchClient> {
  const socket = target.startsWith("unix:")
    ? connect(target.slice("unix:".length))
    : connect(Number(new URL(target).port), "127.0.0.1");
  await once(socket, "connect");
  if (!target.startsWith("unix:")) socket.setNoDelay(true);
  const pending = new Map<number, PendingCall>();
  const writer = new FrameWriter(socket);
  let nextId = 1;
  const reader = new FrameReader((id, body) => {
    const call = pending.get(id);
    if (call === undefined) return;
    pending.delete(id);
    call.resolve(queryFlightResponse.decode(body));
  });
  const failAll = (error: Error): void => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  socket.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (error) {
      socket.destroy(error as Error);
    }
  });
  socket.on("error", failAll);
  socket.on("close", () => failAll(new Error(`raw connection to ${target} closed`)));
  return {
    call(request) {
      const id = nextId;
      nextId = nextId === 0xffffffff ? 1 : nextId + 1;
      writer.add(id, queryFlightRequest.encode(request).finish());
      return new Promise<queryFlightResponse>((resolve, reject) => {
        pending.set(id, { resolve, reject });
      });
    },
    async close() {
      socket.destroy();
    },
  };
}
