import { SeqTable } from "../wire/seq-table.js";
import type { DatagramStats } from "./datagram-stats.js";
import { DEDUP_WINDOW_MS, MAX_CACHED_PER_PEER } from "./datagram-timing.js";

export const enum ReplyState {
  /** Handed to the RPC layer, no reply yet: a copy of the request is dropped. */
  RUNNING = 0,
  /** Replied: a copy of the request gets the cached reply again. */
  ANSWERED = 1,
  /** The client cancelled it: a copy is dropped, nothing is sent. */
  CANCELLED = 2,
}

export class CachedReply {
  state = ReplyState.RUNNING;
  /** The reply datagram as first sent (ANSWERED only). */
  datagram: Uint8Array | undefined = undefined;
  /** When it stopped running (Date.now() ms). */
  doneAt = 0;
  next: CachedReply | undefined = undefined;
  constructor(readonly seq: number) {}
}

/** True when seq `a` comes before seq `b` in the client's numbering (serial number arithmetic, RFC 1982). */
function before(a: number, b: number): boolean {
  const distance = (b - a) >>> 0;
  return distance !== 0 && distance < 0x80000000;
}

/**
 * A server connection's memory of its client's requests, so a request sent several times runs
 * once: by seq for lookups, and in arrival order for forgetting. An entry is forgotten when
 * - the client acknowledges it (its REQUESTs say which seq is the oldest it still waits for, see
 *   RequestTable.ackDelta: every answered or cancelled entry before it goes), or
 * - it was answered or cancelled more than DEDUP_WINDOW_MS ago (sweep), or
 * - the cache holds more than MAX_CACHED_PER_PEER entries (the oldest answered ones go, counted:
 *   a copy arriving after that would run again — only a client with that many unacknowledged
 *   replies in the window can cause it).
 * A copy of an acknowledged request arriving after its entry went is recognised by the floor
 * (isStale) and dropped.
 * Running entries are never forgotten. [not thread-safe; one per connection]
 */
export class ReplyCache {
  private readonly bySeq = new SeqTable<CachedReply>();
  private head: CachedReply | undefined;
  private tail: CachedReply | undefined;
  /** Entries in RUNNING state. */
  running = 0;
  /**
   * The newest "oldest seq the client still waits for" it has sent (undefined before the first):
   * every request before it is finished for the client, so a copy of one that arrives after its
   * entry was forgotten (delayed in the network past the acknowledgement) is stale, not new.
   */
  private floor: number | undefined = undefined;

  constructor(private readonly stats: DatagramStats) {}

  get size(): number {
    return this.bySeq.size;
  }

  get(seq: number): CachedReply | undefined {
    return this.bySeq.get(seq);
  }

  /** Records a request handed to the RPC layer. `seq` must not be in the cache. */
  begin(seq: number): void {
    const entry = new CachedReply(seq);
    this.bySeq.set(seq, entry);
    if (this.tail !== undefined) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.running++;
    if (this.bySeq.size > MAX_CACHED_PER_PEER) this.evict();
  }

  /** The reply to `seq` is being sent; false when `seq` is not running (a reply to nothing the cache knows, sent anyway). */
  answer(seq: number, datagram: Uint8Array, now: number): boolean {
    const entry = this.bySeq.get(seq);
    if (entry === undefined || entry.state !== ReplyState.RUNNING) return false;
    entry.state = ReplyState.ANSWERED;
    entry.datagram = datagram;
    entry.doneAt = now;
    this.running--;
    return true;
  }

  /** The client cancelled `seq`: no reply will be sent, and a late copy of the request must not run. */
  cancel(seq: number, now: number): void {
    const entry = this.bySeq.get(seq);
    if (entry === undefined || entry.state !== ReplyState.RUNNING) return;
    entry.state = ReplyState.CANCELLED;
    entry.doneAt = now;
    this.running--;
  }

  /**
   * True for a request the client no longer waits for (seq before the acknowledged floor): a late
   * copy whose entry was forgotten. Running it would run it twice; it is dropped instead.
   */
  isStale(seq: number): boolean {
    return this.floor !== undefined && before(seq, this.floor);
  }

  /** The client waits for nothing before `oldest`: forgets the finished entries before it. */
  acknowledge(oldest: number): void {
    if (this.floor === undefined || before(this.floor, oldest)) this.floor = oldest;
    let previous: CachedReply | undefined;
    let entry = this.head;
    while (entry !== undefined && before(entry.seq, oldest)) {
      const next = entry.next;
      if (entry.state === ReplyState.RUNNING) previous = entry;
      else this.unlink(entry, previous);
      entry = next;
    }
  }

  /** Forgets the finished entries older than the window, from the oldest arrival on. */
  sweep(now: number): void {
    let previous: CachedReply | undefined;
    let entry = this.head;
    while (entry !== undefined) {
      const next = entry.next;
      if (entry.state === ReplyState.RUNNING) {
        previous = entry;
      } else if (now - entry.doneAt > DEDUP_WINDOW_MS) {
        this.unlink(entry, previous);
      } else {
        // Later arrivals mostly finished later: the rest waits for the next sweep.
        return;
      }
      entry = next;
    }
  }

  clear(): void {
    this.floor = undefined;
    this.bySeq.clear();
    this.head = undefined;
    this.tail = undefined;
    this.running = 0;
  }

  private evict(): void {
    let previous: CachedReply | undefined;
    let entry = this.head;
    while (entry !== undefined && this.bySeq.size > MAX_CACHED_PER_PEER) {
      const next = entry.next;
      if (entry.state === ReplyState.RUNNING) {
        previous = entry;
      } else {
        this.unlink(entry, previous);
        this.stats.count("cacheEvicted");
      }
      entry = next;
    }
  }

  private unlink(entry: CachedReply, previous: CachedReply | undefined): void {
    this.bySeq.delete(entry.seq);
    if (previous === undefined) this.head = entry.next;
    else previous.next = entry.next;
    if (this.tail === entry) this.tail = previous;
    entry.next = undefined;
  }
}
