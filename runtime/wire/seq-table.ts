/**
 * The calls in flight on one connection, by seq: what the client looks replies up in and what
 * the server looks CANCELs up in.
 *
 * A Map would do, but the pattern here is its worst case: a batch of calls is added, then all of
 * them are removed, again and again, and a Map reallocates its table as it grows and shrinks
 * across each batch. This table is open addressing with linear probing in two flat arrays that
 * only grow (to twice the most calls ever in flight), and deletion shifts later entries back
 * instead of leaving tombstones. Seqs are spread with Fibonacci hashing under a random odd
 * multiplier: consecutive seqs (what msf clients send) land in distinct slots, and a peer that
 * picks seqs cannot aim them at one slot.
 */
export class SeqTable<T> {
  private seqs: Uint32Array;
  private slots: (T | undefined)[];
  /** log2 of the capacity. */
  private bits: number;
  private readonly multiplier = (Math.floor(Math.random() * 0x80000000) * 2 + 1) >>> 0;
  private count = 0;

  constructor(initialBits = 6) {
    this.bits = initialBits;
    this.seqs = new Uint32Array(1 << initialBits);
    this.slots = new Array<T | undefined>(1 << initialBits).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get(seq: number): T | undefined {
    const mask = this.slots.length - 1;
    for (let i = this.home(seq); ; i = (i + 1) & mask) {
      const value = this.slots[i];
      if (value === undefined || this.seqs[i] === seq) return value;
    }
  }

  /** Adds `value` under `seq`, which must not be in the table. */
  set(seq: number, value: T): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    let i = this.home(seq);
    while (this.slots[i] !== undefined) i = (i + 1) & mask;
    this.seqs[i] = seq;
    this.slots[i] = value;
    this.count++;
  }

  /** Removes and returns the value under `seq` (undefined when absent). */
  delete(seq: number): T | undefined {
    const mask = this.slots.length - 1;
    let i = this.home(seq);
    for (;;) {
      const value = this.slots[i];
      if (value === undefined) return undefined;
      if (this.seqs[i] === seq) break;
      i = (i + 1) & mask;
    }
    const removed = this.slots[i];
    // Backward-shift: move later entries of the probe run into the hole when the hole lies on
    // their way from their home slot, so lookups never meet a gap before their entry.
    let hole = i;
    for (let j = (i + 1) & mask; this.slots[j] !== undefined; j = (j + 1) & mask) {
      const home = this.home(this.seqs[j]!);
      // Distance from home to j, and from home to the hole, along the probe direction.
      if (((j - home) & mask) >= ((hole - home) & mask)) {
        this.seqs[hole] = this.seqs[j]!;
        this.slots[hole] = this.slots[j];
        hole = j;
      }
    }
    this.slots[hole] = undefined;
    this.count--;
    return removed;
  }

  /** The values, in no particular order (a copy: the table may change while it is used). */
  values(): T[] {
    const out: T[] = [];
    for (const value of this.slots) if (value !== undefined) out.push(value);
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.count = 0;
  }

  private home(seq: number): number {
    return Math.imul(seq, this.multiplier) >>> (32 - this.bits);
  }

  private grow(): void {
    const seqs = this.seqs;
    const slots = this.slots;
    this.bits++;
    this.seqs = new Uint32Array(1 << this.bits);
    this.slots = new Array<T | undefined>(1 << this.bits).fill(undefined);
    this.count = 0;
    for (let i = 0; i < slots.length; i++) {
      const value = slots[i];
      if (value !== undefined) this.set(seqs[i]!, value);
    }
  }
}
