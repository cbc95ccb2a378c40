import test from "ava";
import { Backend } from "../../runtime/daemon/agent/backend.js";
import { balancerNames, createBalancer, registerBalancer, type Balancer } from "../../runtime/daemon/agent/balancer.js";
import { VIRTUAL_NODES } from "../../runtime/daemon/agent/balancer-consistent-hash.js";
import { MIN_WEIGHT } from "../../runtime/daemon/agent/balancer-dynamic-weight.js";
import { seeded } from "./agent-fixtures.js";

function backends(count: number, from = 0): Backend[] {
  return Array.from({ length: count }, (_, i) => new Backend({ id: `b${from + i}`, service: "svc", endpoint: `unix:/tmp/b${from + i}.sock` }));
}

/** Picks `count` times (no key) and counts the picks per backend id. */
function tally(balancer: Balancer, list: readonly Backend[], count: number, key?: (i: number) => string): Map<string, number> {
  const counts = new Map(list.map((backend) => [backend.id, 0]));
  for (let i = 0; i < count; i++) {
    const picked = balancer.pick(list, key?.(i))!;
    counts.set(picked.id, counts.get(picked.id)! + 1);
  }
  return counts;
}

test("the five strategies are registered under their config names; an unknown name is a clear error", (t) => {
  t.deepEqual(balancerNames().slice(0, 5), ["round_robin", "random", "consistent_hash", "least_inflight", "dynamic_weight"]);
  const error = t.throws(() => createBalancer("fastest"));
  t.is(
    error.message,
    'unknown load-balancing strategy "fastest": expected one of round_robin, random, consistent_hash, least_inflight, dynamic_weight',
  );
  t.throws(() => registerBalancer("random", () => createBalancer("round_robin")), { message: 'a balancer named "random" is already registered' });
});

test("every strategy returns undefined for no backends and the only one for one", (t) => {
  const [only] = backends(1);
  for (const name of balancerNames()) {
    const balancer = createBalancer(name, { random: seeded(1) });
    t.is(balancer.pick([], "k"), undefined, name);
    t.is(balancer.pick([only!], "k"), only, name);
    t.is(balancer.pick([only!], undefined), only, name);
  }
});

test("round_robin visits the backends in turn: exactly even", (t) => {
  const list = backends(3);
  const balancer = createBalancer("round_robin");
  const order = Array.from({ length: 7 }, () => balancer.pick(list, undefined)!.id);
  t.deepEqual(order, ["b0", "b1", "b2", "b0", "b1", "b2", "b0"]);
  const counts = tally(createBalancer("round_robin"), list, 3000);
  t.deepEqual([...counts.values()], [1000, 1000, 1000]);
});

test("round_robin goes on when the list shrinks or grows", (t) => {
  const list = backends(4);
  const balancer = createBalancer("round_robin");
  for (let i = 0; i < 3; i++) balancer.pick(list, undefined);
  const shrunk = list.slice(0, 2);
  const seen = Array.from({ length: 4 }, () => balancer.pick(shrunk, undefined)!.id);
  t.deepEqual(seen.sort(), ["b0", "b0", "b1", "b1"]);
  const counts = tally(balancer, list, 400);
  t.deepEqual([...counts.values()], [100, 100, 100, 100]);
});

test("random spreads uniformly (30,000 seeded picks over 3 backends: each within 2% of a third)", (t) => {
  const list = backends(3);
  const counts = tally(createBalancer("random", { random: seeded(42) }), list, 30_000);
  for (const [id, count] of counts) t.true(count > 9400 && count < 10_600, `${id}: ${count}`);
  // A different seed gives a different sequence: the generator is really used.
  const a = Array.from({ length: 20 }, ((balancer) => () => balancer.pick(list, undefined)!.id)(createBalancer("random", { random: seeded(1) })));
  const b = Array.from({ length: 20 }, ((balancer) => () => balancer.pick(list, undefined)!.id)(createBalancer("random", { random: seeded(2) })));
  t.notDeepEqual(a, b);
});

test("random with Math.random (the default) also reaches every backend", (t) => {
  const counts = tally(createBalancer("random"), backends(4), 4000);
  for (const [id, count] of counts) t.true(count > 700 && count < 1300, `${id}: ${count}`);
});

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function owners(balancer: Balancer, list: readonly Backend[]): string[] {
  return keys.map((key) => balancer.pick(list, key)!.id);
}

test("consistent_hash: the same key reaches the same backend, in any ring built from the same set", (t) => {
  const list = backends(4);
  const first = owners(createBalancer("consistent_hash"), list);
  const again = owners(createBalancer("consistent_hash"), list);
  t.deepEqual(again, first, "a second balancer agrees key by key");
  const balancer = createBalancer("consistent_hash");
  const copy = [...list];
  t.deepEqual(owners(balancer, copy), first, "a copy of the list (rebuilt signature) agrees");
  for (const id of ["b0", "b1", "b2", "b3"]) {
    const share = first.filter((owner) => owner === id).length / keys.length;
    t.true(share > 0.15 && share < 0.35, `${id} owns ${share} of the keys (${VIRTUAL_NODES} virtual nodes each)`);
  }
});

test("consistent_hash: adding a 5th backend moves about 1/5 of 10,000 keys, all to the new one", (t) => {
  const list = backends(4);
  const balancer = createBalancer("consistent_hash");
  const before = owners(balancer, list);
  const after = owners(balancer, [...list, ...backends(1, 4)]);
  let moved = 0;
  for (let i = 0; i < keys.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    t.is(after[i], "b4", `${keys[i]} moved from ${before[i]} to the new backend, not elsewhere`);
  }
  const fraction = moved / keys.length;
  t.true(fraction > 0.12 && fraction < 0.28, `moved ${fraction}`);
});

test("consistent_hash: removing a backend moves only its own keys", (t) => {
  const list = backends(5);
  const balancer = createBalancer("consistent_hash");
  const before = owners(balancer, list);
  const after = owners(balancer, list.filter((backend) => backend.id !== "b2"));
  let moved = 0;
  for (let i = 0; i < keys.length; i++) {
    if (before[i] === "b2") {
      t.not(after[i], "b2");
      moved++;
    } else {
      t.is(after[i], before[i]);
    }
  }
  t.true(moved / keys.length > 0.12 && moved / keys.length < 0.28, `b2 owned ${moved / keys.length}`);
});

test("consistent_hash: the ring follows slots, so a new generation of an instance keeps its keys", (t) => {
  const old = [0, 1, 2].map((i) => new Backend({ id: `svc#${i}.1`, slot: `svc#${i}`, service: "svc", endpoint: `unix:/tmp/${i}.1.sock` }));
  const next = new Backend({ id: "svc#1.2", slot: "svc#1", service: "svc", endpoint: "unix:/tmp/1.2.sock" });
  const balancer = createBalancer("consistent_hash");
  const before = owners(balancer, old).map((id) => id.replace(/\.\d+$/, ""));
  const upgraded = [old[0]!, old[2]!, next];
  const after = owners(balancer, upgraded).map((id) => id.replace(/\.\d+$/, ""));
  t.deepEqual(after, before);
});

test("consistent_hash without a key goes round robin", (t) => {
  const list = backends(3);
  const counts = tally(createBalancer("consistent_hash"), list, 300);
  t.deepEqual([...counts.values()], [100, 100, 100]);
});

test("least_inflight picks the idle backend", (t) => {
  const list = backends(3);
  list[0]!.inFlight = 3;
  list[1]!.inFlight = 0;
  list[2]!.inFlight = 2;
  const balancer = createBalancer("least_inflight");
  for (let i = 0; i < 10; i++) t.is(balancer.pick(list, undefined), list[1]);
  list[1]!.inFlight = 5;
  t.is(balancer.pick(list, undefined), list[2]);
});

test("least_inflight spreads calls that stay in flight over every backend, and idle ties in rotation", (t) => {
  const list = backends(4);
  const balancer = createBalancer("least_inflight");
  for (let i = 0; i < 8; i++) balancer.pick(list, undefined)!.inFlight++;
  t.deepEqual(
    list.map((backend) => backend.inFlight),
    [2, 2, 2, 2],
  );
  for (const backend of list) backend.inFlight = 0;
  const counts = tally(balancer, list, 400);
  t.deepEqual([...counts.values()], [100, 100, 100, 100]);
});

test("dynamic_weight: equal weights split evenly; a failing backend's share drops, then recovers", (t) => {
  const list = backends(2);
  const [a, b] = list as [Backend, Backend];
  const balancer = createBalancer("dynamic_weight");
  t.deepEqual([...tally(balancer, list, 1000).values()], [500, 500]);

  // a fails every call it gets: its weight halves per failure down to the floor.
  const run = (count: number, aFails: boolean): number => {
    let toA = 0;
    for (let i = 0; i < count; i++) {
      const picked = balancer.pick(list, undefined)!;
      if (picked === a) toA++;
      balancer.report!(picked, picked === a && aFails ? "unreachable" : "ok");
    }
    return toA;
  };
  run(200, true);
  t.is(a.weight, MIN_WEIGHT);
  t.is(b.weight, 100);
  const failingShare = run(1000, true) / 1000;
  t.true(failingShare > 0 && failingShare < 0.03, `failing share ${failingShare}`);

  // a is healthy again: successes raise its weight back to full and its share to half.
  run(2000, false);
  t.is(a.weight, 100);
  const recoveredShare = run(1000, false) / 1000;
  t.true(recoveredShare > 0.45 && recoveredShare < 0.55, `recovered share ${recoveredShare}`);
});

test("dynamic_weight: overload lowers the weight too; the handler's own errors do not", (t) => {
  const [a] = backends(1) as [Backend];
  const balancer = createBalancer("dynamic_weight");
  balancer.report!(a, "overloaded");
  t.is(a.weight, 50);
  balancer.report!(a, "error");
  t.is(a.weight, 62);
  balancer.report!(a, "unreachable");
  t.is(a.weight, 31);
});
