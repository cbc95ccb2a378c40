// Shared pieces of the events tests: a real server serving an EventBus on a unix socket in a
// temp dir, real channels to it, all torn down with the test.
import type { ExecutionContext } from "ava";
import { join } from "node:path";
import { createChannel, createServer, type Channel, type Server } from "msf";
import { EventBus, type EventBusOptions, EventsClient } from "../../runtime/events/index.js";
import { tempDir } from "../helpers/runtime-fixtures.js";

export { rpcError, waitFor } from "../helpers/runtime-fixtures.js";

export interface BusServer {
  readonly bus: EventBus;
  readonly server: Server;
  readonly address: string;
  /** A new channel to the server, closed when the test ends. */
  channel(): Channel;
  /** The generated client over a new channel: raw rpcs. */
  client(): EventsClient;
}

/** Starts `new EventBus(options)` served on `unix:<tmp>/bus.sock` (or `address`); everything is closed at teardown. */
export async function startBus(t: ExecutionContext, options: EventBusOptions = {}, address?: string): Promise<BusServer> {
  const listen = address ?? `unix:${join(tempDir(t), "bus.sock")}`;
  const bus = new EventBus(options);
  const server = createServer({ listen: [listen] });
  server.addService(bus.definition, bus.handlers);
  await server.start();
  const channels: Channel[] = [];
  t.teardown(async () => {
    await Promise.all(channels.map((channel) => channel.close()));
    await server.close({ graceMs: 0 });
    bus.close();
  });
  const channel = (): Channel => {
    const made = createChannel(listen);
    channels.push(made);
    return made;
  };
  return { bus, server, address: listen, channel, client: () => new EventsClient(channel()) };
}

/** A payload carrying a number (and optionally padded to `size` bytes). */
export function numbered(value: number, size = 8): Buffer {
  const payload = Buffer.alloc(Math.max(8, size));
  payload.writeDoubleLE(value, 0);
  return payload;
}

export function numberOf(payload: Uint8Array): number {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readDoubleLE(0);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
