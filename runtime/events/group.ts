import type { DropPolicyName } from "./drop-policy.js";
import type { Event } from "./gen/msf/events.js";
import { QUEUED, type OfferResult, type Sink, type Waitable, type Waiter } from "./sink.js";
import type { Subscription } from "./subscription.js";
import { topicMatcher } from "./topic.js";

/**
 * Subscriptions with the same topic (pattern) and group name: each event goes to one member.
 * Events without a key go round robin to the next member whose queue has room; when every
 * queue is full, the next member in turn applies the group's policy (block: wait until any
 * member has room). An event with a key goes to the member its key hashes to, so events with
 * one key keep their order; that member's full queue is waited on (block) or drops.
 * All members share one drop policy (checked at Subscribe).
 */
export class Group implements Sink, Waitable {
  readonly members: Subscription[] = [];
  readonly waiters: Waiter[] = [];
  readonly matches: (topic: string) => boolean;
  private next = 0;

  constructor(
    readonly name: string,
    readonly pattern: string,
    readonly policy: DropPolicyName,
  ) {
    this.matches = topicMatcher(pattern);
  }

  offer(event: Event, force: boolean): OfferResult {
    const members = this.members;
    const count = members.length;
    if (event.key !== "") return members[keyHash(event.key) % count]!.offer(event, force);
    for (let step = 0; step < count; step++) {
      const index = (this.next + step) % count;
      const member = members[index]!;
      if (member.hasRoom()) {
        this.next = (index + 1) % count;
        member.push(event);
        return QUEUED;
      }
    }
    const member = members[this.next % count]!;
    this.next = (this.next + 1) % count;
    return member.offer(event, force);
  }

  waitFor(event: Event): Waitable {
    return event.key === "" ? this : this.members[keyHash(event.key) % this.members.length]!;
  }

  describe(): string {
    return `group "${this.name}" of topic "${this.pattern}" (the queues of all ${this.members.length} member(s) full, policy ${this.policy})`;
  }

  /** Removes `member`; its queued events go round robin to the others (beyond their limits: never lost). Returns how many moved. */
  remove(member: Subscription): number {
    const index = this.members.indexOf(member);
    if (index < 0) return 0;
    this.members.splice(index, 1);
    if (this.next > index) this.next--;
    const count = this.members.length;
    if (count === 0) return 0;
    let moved = 0;
    for (let event = member.queue.shift(); event !== undefined; event = member.queue.shift()) {
      const target = event.key === "" ? this.members[this.next++ % count]! : this.members[keyHash(event.key) % count]!;
      target.push(event);
      moved++;
    }
    this.next %= count;
    return moved;
  }
}

/** FNV-1a over the key's UTF-16 code units: cheap, stable, spreads short keys well. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
