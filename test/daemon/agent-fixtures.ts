// Shared pieces of the agent tests (test/daemon/agent-*.test.ts).
import type { InstanceInfo, ServedMethod, ServedService } from "../../runtime/daemon/agent/agent-types.js";
import { methodId } from "msf/internal";

/** mulberry32: a small seeded generator of uniform numbers in [0, 1), for reproducible picks. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public now = 1_000_000) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export function servedMethod(fullName: string, idempotent = false): ServedMethod {
  const name = fullName.slice(fullName.lastIndexOf(".") + 1);
  return { name, localName: name, fullName, id: methodId(fullName), idempotent };
}

export function servedService(fullName: string, methods: readonly ServedMethod[]): ServedService {
  return { name: fullName.slice(fullName.lastIndexOf(".") + 1), fullName, methods };
}

/** The InstanceInfo the host would report for instance `index` of `service`. */
export function instanceInfo(service: string, index: number, endpoint: string, generation = 1): InstanceInfo {
  return {
    service,
    index,
    generation,
    id: `${service}#${index}.${generation}`,
    pid: process.pid,
    threadId: undefined,
    endpoint,
    state: "ready",
    startedAt: Date.now(),
    restarts: 0,
    rssBytes: 0,
    heapBytes: 0,
    memoryBytes: 0,
  };
}
