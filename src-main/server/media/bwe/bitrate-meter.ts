/**
 * Bytes over a sliding window, as bits per second: a ring of fixed time buckets,
 * so counting a packet allocates nothing. Time is passed in (monotonic ms).
 */
export class BitrateMeter {
  private readonly buckets: Float64Array;
  /** Absolute index (time / bucketMs) of the newest bucket, or -1 before the first sample. */
  private head = -1;
  /** Start of the first bucket ever counted: before a full window has passed, the rate is over the time seen. */
  private firstMs = 0;

  constructor(
    private readonly windowMs: number,
    private readonly bucketMs: number,
  ) {
    this.buckets = new Float64Array(Math.max(1, Math.ceil(windowMs / bucketMs)));
  }

  add(bytes: number, nowMs: number): void {
    const index = Math.floor(nowMs / this.bucketMs);
    if (this.head < 0) {
      this.head = index;
      this.firstMs = index * this.bucketMs;
    } else this.advance(index);
    this.buckets[index % this.buckets.length]! += bytes;
  }

  /** The average rate over the window ending now, in bits per second (0 before anything was counted). */
  bps(nowMs: number): number {
    if (this.head < 0) return 0;
    const index = Math.floor(nowMs / this.bucketMs);
    this.advance(index);
    let bytes = 0;
    for (let i = 0; i < this.buckets.length; i++) bytes += this.buckets[i]!;
    // The oldest bucket still counted starts this long ago; a young meter counts from its first bucket.
    const windowStart = (index - this.buckets.length + 1) * this.bucketMs;
    const spanMs = Math.max(this.bucketMs, nowMs - Math.max(windowStart, this.firstMs));
    return Math.round((bytes * 8 * 1000) / spanMs);
  }

  reset(): void {
    this.buckets.fill(0);
    this.head = -1;
  }

  /** Clears the buckets between the newest one and `index` (all of them after a long silence). */
  private advance(index: number): void {
    if (index <= this.head) return;
    const n = this.buckets.length;
    const steps = Math.min(n, index - this.head);
    for (let i = 1; i <= steps; i++) this.buckets[(this.head + i) % n] = 0;
    this.head = index;
  }
}
