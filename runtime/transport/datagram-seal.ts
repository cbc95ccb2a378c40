import type { Session, TagDirection } from "../auth/session.js";
import { readU32, writeU32 } from "../wire/header.js";
import { COUNTER_BYTES, TAG_BYTES, TRAILER_BYTES, equalBytes } from "./datagram-frame.js";
import { ReplayWindow } from "./datagram-replay-window.js";

/** What opening a tagged datagram found. */
export type SealVerdict = "ok" | "spoofed" | "replayed";

/** How many of the datagrams sent last are remembered for checking a RESET's echo. */
const RECENT_SENT = 64;

/**
 * Authentication of every datagram of a connection once its CHAP session is bound: the sender
 * numbers its datagrams 1, 2, 3, ... (a counter of its own, distinct from call seqs: a
 * retransmitted request is a new datagram with a new counter), and appends the counter and
 * `session.tag(direction, header ‖ body ‖ counter)`. The receiver checks the tag in constant
 * time under the opposite direction's key (a datagram reflected back to its sender fails), then
 * the counter against its replay window. Tags authenticate; they do not encrypt.
 */
export class DatagramSeal {
  private sent = 0;
  private readonly window = new ReplayWindow();
  private readonly recentTags = new Uint8Array(RECENT_SENT * TAG_BYTES);

  constructor(
    private readonly session: Session,
    private readonly outbound: TagDirection,
    private readonly inbound: TagDirection,
  ) {}

  /** Fills the zeroed trailer of `datagram` (encoded with FrameFlags.TAGGED) with the next counter and the tag. */
  seal(datagram: Uint8Array): void {
    const counterAt = datagram.length - TRAILER_BYTES;
    const counter = ++this.sent;
    writeU32(datagram, counterAt, Math.floor(counter / 0x100000000));
    writeU32(datagram, counterAt + 4, counter >>> 0);
    const tag = this.session.tag(this.outbound, datagram.subarray(0, counterAt + COUNTER_BYTES));
    datagram.set(tag, counterAt + COUNTER_BYTES);
    this.recentTags.set(tag, (counter % RECENT_SENT) * TAG_BYTES);
  }

  /** Checks the trailer of a received datagram that has FrameFlags.TAGGED set. */
  open(datagram: Uint8Array): SealVerdict {
    const counterAt = datagram.length - TRAILER_BYTES;
    const tagAt = counterAt + COUNTER_BYTES;
    const ok = this.session.verify(this.inbound, datagram.subarray(tagAt), datagram.subarray(0, tagAt));
    if (!ok) return "spoofed";
    return this.window.accept(readCounter(datagram, counterAt)) ? "ok" : "replayed";
  }

  /**
   * True when `trailer` (counter and tag) is that of one of the last datagrams this side sent:
   * a RESET echoing it was made by someone who saw that datagram, not guessed.
   */
  sentRecently(trailer: Uint8Array): boolean {
    if (trailer.length !== TRAILER_BYTES) return false;
    const counter = readCounter(trailer, 0);
    if (counter < 1 || counter > this.sent || this.sent - counter >= RECENT_SENT) return false;
    const at = (counter % RECENT_SENT) * TAG_BYTES;
    return equalBytes(this.recentTags.subarray(at, at + TAG_BYTES), trailer.subarray(COUNTER_BYTES));
  }
}

function readCounter(source: Uint8Array, at: number): number {
  return readU32(source, at) * 0x100000000 + readU32(source, at + 4);
}
