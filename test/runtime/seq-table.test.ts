import test from "ava";
import { SeqTable } from "../../runtime/wire/seq-table.js";

/** A deterministic PRNG, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

test("behaves like a Map under random adds, lookups and deletes (with growth and long probe runs)", (t) => {
  for (const [seed, keySpace] of [[1, 0xffffffff], [2, 64], [3, 5000]] as const) {
    const random = lcg(seed);
    const table = new SeqTable<{ seq: number }>(2);
    const reference = new Map<number, { seq: number }>();
    let mismatches = 0;
    for (let step = 0; step < 20_000; step++) {
      const seq = random() % keySpace;
      const roll = random() % 10;
      if (roll < 5 && !reference.has(seq)) {
        const value = { seq };
        table.set(seq, value);
        reference.set(seq, value);
      } else if (roll < 8) {
        if (table.delete(seq) !== reference.get(seq)) mismatches++;
        reference.delete(seq);
      } else if (table.get(seq) !== reference.get(seq)) {
        mismatches++;
      }
      if (table.size !== reference.size) mismatches++;
    }
    t.is(mismatches, 0, `seed ${seed}`);
    let missing = 0;
    for (const [seq, value] of reference) if (table.get(seq) !== value) missing++;
    t.is(missing, 0);
    const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq;
    const expected = [...reference.values()].sort(bySeq);
    const actual = table.values().sort(bySeq);
    t.is(actual.length, expected.length);
    t.true(actual.every((value, i) => value === expected[i]));
  }
});

test("a batch added then removed, many times over, leaves it empty and consistent", (t) => {
  const table = new SeqTable<number>();
  let seq = 0xffffff00; // crosses the 2^32 wrap of the seq space
  for (let round = 0; round < 100; round++) {
    const batch: number[] = [];
    for (let i = 0; i < 64; i++) {
      seq = (seq + 1) >>> 0 || 1;
      table.set(seq, seq);
      batch.push(seq);
    }
    for (const s of batch.reverse()) if (table.delete(s) !== s) t.fail(`lost ${s}`);
  }
  t.is(table.size, 0);
  t.deepEqual(table.values(), []);
  t.is(table.get(seq), undefined);
});
