import type { Backend } from "./backend.js";
import type { Balancer } from "./balancer.js";
import { hash32 } from "./hash.js";

/** Points per backend on the ring (ketama's 160): enough that n backends share keys within a few % of 1/n. */
export const VIRTUAL_NODES = 160;

/**
 * consistent_hash: a hash ring with VIRTUAL_NODES points per backend, placed by its `slot` (so an
 * instance replaced by its next generation keeps its keys). A key goes to the owner of the first
 * point at or after hash32(key), clockwise. The same key always reaches the same backend while
 * the set of backends is unchanged; when one is added, only the keys it takes over move (~1/n of
 * them), and when one leaves (or is ejected) only its own keys move.
 *
 * A call without a key (none configured, or the call does not carry it) goes round robin.
 * The ring is rebuilt only when the set of backends differs from the previous pick's.
 */
export function createConsistentHash(): Balancer {
  let ring: Ring | undefined;
  let ringOf: readonly Backend[] | undefined;
  let ringSignature = "";
  let next = 0;
  return {
    pick(backends: readonly Backend[], key: string | undefined): Backend | undefined {
      const count = backends.length;
      if (count === 0) return undefined;
      if (key === undefined) {
        if (next >= count) next %= count;
        return backends[next++];
      }
      if (backends !== ringOf) {
        const signature = signatureOf(backends);
        if (ring === undefined || signature !== ringSignature) {
          ring = buildRing(backends);
          ringSignature = signature;
        }
        ringOf = backends;
      }
      return ring!.owner(hash32(key));
    },
  };
}

function signatureOf(backends: readonly Backend[]): string {
  let signature = "";
  for (const backend of backends) signature += `${backend.id}\n`;
  return signature;
}

interface Ring {
  owner(hash: number): Backend;
}

function buildRing(backends: readonly Backend[]): Ring {
  const points: { hash: number; backend: Backend }[] = [];
  for (const backend of backends) {
    for (let node = 0; node < VIRTUAL_NODES; node++) points.push({ hash: hash32(`${backend.slot}#${node}`), backend });
  }
  // Ties (two backends on one slot while an upgrade overlaps, or a hash collision) are ordered
  // by id, so every ring built from the same set answers the same.
  points.sort((a, b) => a.hash - b.hash || (a.backend.id < b.backend.id ? -1 : a.backend.id > b.backend.id ? 1 : 0));
  const hashes = Uint32Array.from(points, (point) => point.hash);
  const owners = points.map((point) => point.backend);
  return {
    owner(hash: number): Backend {
      let low = 0;
      let high = hashes.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (hashes[middle]! < hash) low = middle + 1;
        else high = middle;
      }
      return owners[low === hashes.length ? 0 : low]!;
    },
  };
}
