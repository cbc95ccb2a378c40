/**
 * Latencies of a bench run in constant memory, whatever its length: log-scaled buckets, 64 per
 * power of two, so a percentile is within 1.1% of the exact value (HdrHistogram's idea, smaller).
 * The maximum is kept exactly. Values are in microseconds; below 1 µs counts as 1 µs.
 */
export class LatencyHistogram {
  private readonly buckets = new Float64Array(BUCKETS);
  private total = 0;
  private largest = 0;

  record(micros: number): void {
    const value = Math.max(1, micros);
    this.buckets[Math.min(BUCKETS - 1, Math.floor(Math.log2(value) * STEPS_PER_DOUBLING))]!++;
    this.total++;
    if (value > this.largest) this.largest = value;
  }

  get count(): number {
    return this.total;
  }

  /** The exact largest value recorded; 0 when none. */
  get max(): number {
    return this.largest;
  }

  /**
   * The value below which `fraction` (0..1] of the recorded values lie: the geometric middle of
   * its bucket, never above max. 0 when nothing was recorded.
   */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.buckets[index]!;
      if (seen >= rank) return Math.min(this.largest, 2 ** ((index + 0.5) / STEPS_PER_DOUBLING));
    }
    return this.largest;
  }
}

const STEPS_PER_DOUBLING = 64;
/** Up to 2^40 µs (about 12 days): longer than any call can wait. */
const BUCKETS = 40 * STEPS_PER_DOUBLING;
