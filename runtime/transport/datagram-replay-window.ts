/**
 * The per-datagram replay guard of a tagged datagram connection (one per direction received):
 * each tagged datagram carries a counter, 1, 2, 3, ... per sender, authenticated by its tag. A
 * counter is accepted once; a counter more than WINDOW below the highest accepted is refused as
 * too old (IPsec's anti-replay window, RFC 4303 section 3.4.3, with a larger window because a
 * burst of up to a few hundred datagrams may be reordered or retransmitted around a loss).
 *
 * Counters are JavaScript numbers (integers below 2^53; a sender never gets there).
 */
export const REPLAY_WINDOW = 1024;

export class ReplayWindow {
  private highest = 0;
  /** Bit (c mod WINDOW) is set when counter c, within the window below `highest`, was accepted. */
  private readonly seen = new Uint32Array(REPLAY_WINDOW / 32);

  /** Accepts `counter` (true) or refuses it as a replay or as too old (false). Only accepted counters are recorded. */
  accept(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 1) return false;
    if (counter > this.highest) {
      const advance = counter - this.highest;
      if (advance >= REPLAY_WINDOW) {
        this.seen.fill(0);
      } else {
        for (let c = this.highest + 1; c < counter; c++) this.clear(c);
      }
      this.highest = counter;
      this.mark(counter);
      return true;
    }
    if (this.highest - counter >= REPLAY_WINDOW) return false;
    const index = counter % REPLAY_WINDOW;
    const word = index >>> 5;
    const bit = 1 << (index & 31);
    if ((this.seen[word]! & bit) !== 0) return false;
    this.seen[word]! |= bit;
    return true;
  }

  private mark(counter: number): void {
    const index = counter % REPLAY_WINDOW;
    this.seen[index >>> 5]! |= 1 << (index & 31);
  }

  private clear(counter: number): void {
    const index = counter % REPLAY_WINDOW;
    this.seen[index >>> 5]! &= ~(1 << (index & 31));
  }
}
