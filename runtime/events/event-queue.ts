/**
 * A FIFO of events: a ring buffer that grows by doubling and never shrinks below what it held
 * (a subscription's queue refills at the same size, so its memory is reused). push and shift are
 * O(1) with no allocation; Array.prototype.shift would be O(n) on large queues.
 */
export class EventQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Removes every item, oldest first, into `out`. */
  drainInto(out: T[]): void {
    while (this.count > 0) out.push(this.shift()!);
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let index = 0; index < this.count; index++) next[index] = old[(this.head + index) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
