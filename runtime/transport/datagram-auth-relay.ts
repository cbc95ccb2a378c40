import type { Timed, TimerList } from "../timer-queue.js";
import { eventLoopClock, type TimerSource } from "./datagram-clock.js";
import { HEADER_BYTES } from "../wire/header.js";
import { equalBytes } from "./datagram-frame.js";
import type { DatagramStats } from "./datagram-stats.js";
import { FIRST_RETRANSMIT_MS, RETRANSMIT_HORIZON_MS, backoff } from "./datagram-timing.js";

/** What an AuthRelay asks of its connection. */
export interface AuthRelayOwner {
  /** Sends `datagram` again: as is when it went out untagged, re-sealed under a new counter when tagged. */
  resendAuth(datagram: Uint8Array, tagged: boolean): void;
}

/**
 * CHAP handshake steps (docs/auth.md, byte 0 of an AUTH body) that wait for an answer from the
 * peer: CHALLENGE (1), RESPONSE (2), RECHALLENGE (5) and the client's HELLO (7). SUCCESS,
 * FAILURE and REANSWER end an exchange.
 */
const EXPECTS_ANSWER = new Set([1, 2, 5, 7]);
const HELLO = 7;
/** AUTH bodies received that are remembered to recognise copies. */
const RECENT_BODIES = 8;

interface SentAuth {
  readonly datagram: Uint8Array;
  readonly tagged: boolean;
  readonly expectsAnswer: boolean;
  /** The body received last before this was sent: what it answers (a copy of that body makes it go again). */
  readonly answers: Uint8Array | undefined;
}

/**
 * Makes the CHAP handshake survive datagram loss and duplication without the handshake state
 * machines knowing: they are strict (a second RESPONSE is a replay, a HELLO after a CHALLENGE is
 * out of order), so
 * - a frame that waits for an answer is sent again (same schedule as requests) until a new AUTH
 *   frame arrives from the peer (a HELLO does not count: it answers nothing);
 * - a received AUTH body equal to one of the last few received is a copy: it is not passed on,
 *   and when this side's last AUTH frame answered exactly that body, that frame goes again (the
 *   answer was lost). A frame that answered something else is not resent, so two sides never
 *   bounce copies at each other.
 * [not thread-safe; one per connection]
 */
export class AuthRelay implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;

  private last: SentAuth | undefined;
  private firstSentAt = 0;
  private interval = FIRST_RETRANSMIT_MS;
  private readonly recent: Uint8Array[] = [];
  private latest: Uint8Array | undefined;

  constructor(
    private readonly owner: AuthRelayOwner,
    private readonly stats: DatagramStats,
    private readonly timers: TimerSource = eventLoopClock.timers,
  ) {}

  /** An AUTH datagram was just sent (its trailer already filled when tagged). */
  sent(datagram: Uint8Array, tagged: boolean, now: number): void {
    this.stop();
    const step = datagram.length > HEADER_BYTES ? datagram[HEADER_BYTES]! : 0;
    const expectsAnswer = EXPECTS_ANSWER.has(step);
    this.last = { datagram, tagged, expectsAnswer, answers: this.latest };
    if (!expectsAnswer) return;
    this.firstSentAt = now;
    this.interval = FIRST_RETRANSMIT_MS;
    this.timers.add(this, now + this.interval, this.interval);
  }

  /**
   * An AUTH body arrived (after its tag, if any, was checked). True when it is new and must be
   * passed on; false for a copy (counted, and answered again when this side's last frame answered it).
   */
  received(body: Uint8Array): boolean {
    const copyOf = this.recent.find((seen) => equalBytes(seen, body));
    if (copyOf !== undefined) {
      this.stats.count("duplicates");
      const last = this.last;
      if (last !== undefined && last.answers === copyOf) this.owner.resendAuth(last.datagram, last.tagged);
      return false;
    }
    const kept = Uint8Array.from(body);
    this.recent.push(kept);
    if (this.recent.length > RECENT_BODIES) this.recent.shift();
    this.latest = kept;
    if (body[0] !== HELLO) this.stop();
    return true;
  }

  /** True when `body` is a copy of an AUTH body received recently (for untagged copies arriving after binding). */
  isRecent(body: Uint8Array): boolean {
    return this.recent.some((seen) => equalBytes(seen, body));
  }

  onDeadline(): void {
    const last = this.last;
    if (last === undefined) return;
    const now = Date.now();
    this.owner.resendAuth(last.datagram, last.tagged);
    this.interval = backoff(this.interval);
    if (now + this.interval - this.firstSentAt <= RETRANSMIT_HORIZON_MS) this.timers.add(this, now + this.interval, this.interval);
  }

  stop(): void {
    if (this.timerList !== undefined) this.timers.remove(this);
  }
}
