// A UDP proxy that loses, duplicates and reorders datagrams, both ways, for the network fault
// tests. One upstream socket per client address (so the server sees one peer per client). The
// faults come from a seeded generator: a failing run can be repeated.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export interface ProxyFaults {
  /** Probability that a datagram is dropped (0..1). */
  readonly loss: number;
  /** Probability that a datagram is sent twice (the copy after its own delay). */
  readonly duplicate: number;
  /** Each datagram is held a random time from 0 to this, ms: later datagrams overtake it. */
  readonly maxDelayMs: number;
  readonly seed: number;
}

export interface ProxyCounters {
  forwarded: number;
  dropped: number;
  duplicated: number;
  /** Datagrams delivered after one that was received later (per direction). */
  reordered: number;
}

export interface LossyProxy {
  /** The address clients send to: udp://127.0.0.1:<port>. */
  readonly address: string;
  readonly counters: ProxyCounters;
  close(): Promise<void>;
}

/** Starts a proxy in front of the UDP server at 127.0.0.1:`targetPort`. */
export async function startLossyProxy(targetPort: number, faults: ProxyFaults): Promise<LossyProxy> {
  let state = faults.seed >>> 0 || 1;
  // xorshift32: small, seeded, good enough to pick faults.
  const random = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const counters: ProxyCounters = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const front = createSocket("udp4");
  const upstreams = new Map<string, Socket>();
  let closed = false;
  // Per direction: the receive number of the last datagram delivered, to count overtakes.
  const lastDelivered = new Map<string, number>();
  let received = 0;

  const pass = (direction: string, datagram: Buffer, send: (datagram: Buffer) => void): void => {
    const number = received++;
    if (random() < faults.loss) {
      counters.dropped++;
      return;
    }
    const copies = random() < faults.duplicate ? 2 : 1;
    if (copies === 2) counters.duplicated++;
    for (let copy = 0; copy < copies; copy++) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (closed) return;
        const last = lastDelivered.get(direction) ?? -1;
        if (number < last) counters.reordered++;
        else lastDelivered.set(direction, number);
        counters.forwarded++;
        send(datagram);
      }, Math.floor(random() * (faults.maxDelayMs + 1)));
      timers.add(timer);
    }
  };

  front.on("message", (datagram: Buffer, client: RemoteInfo) => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (upstream === undefined) {
      const socket = createSocket("udp4");
      socket.on("message", (reply: Buffer) => pass(`down ${key}`, reply, (bytes) => front.send(bytes, client.port, client.address)));
      socket.on("error", () => undefined);
      socket.bind(0, "127.0.0.1");
      upstreams.set(key, (upstream = socket));
    }
    const target = upstream;
    pass(`up ${key}`, datagram, (bytes) => target.send(bytes, targetPort, "127.0.0.1"));
  });
  front.on("error", () => undefined);
  await new Promise<void>((resolve) => front.bind(0, "127.0.0.1", resolve));
  return {
    address: `udp://127.0.0.1:${front.address().port}`,
    counters,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([front, ...upstreams.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}
