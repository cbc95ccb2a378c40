/** The bus's totals since it started, shared by its parts (plain numbers: exact up to 2^53). */
export class BusCounters {
  /** Events accepted (Publish and publishLocal), duplicates not included. */
  published = 0;
  /** Events handed out by Pull. */
  delivered = 0;
  /** Events lost to a drop policy. */
  dropped = 0;
  /** Accepted events that matched no subscription. */
  unrouted = 0;
  /** Retransmitted events skipped because they had been accepted before. */
  duplicates = 0;
  /** Publishes waiting for room right now. */
  blocked = 0;
}
