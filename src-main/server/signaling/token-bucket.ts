/**
 * A token bucket: `ratePerSec` tokens a second up to `capacity`. Time comes in
 * as an argument, so the bucket is deterministic under test.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    private readonly ratePerSec: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    if (!this.allows(nowMs)) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is there now; it takes none. */
  allows(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= 1;
  }

  private refill(nowMs: number): void {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSec);
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
  }
}

/**
 * A hard cap: at most `limit` events in any rolling window of `windowMs`.
 * Unlike a bucket it allows no burst above the limit, whatever happened before.
 */
export class SlidingWindowLimit {
  /** Times of the accepted events still inside the window, oldest first (a ring). */
  private readonly times: number[] = [];
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1000,
  ) {}

  /** Whether one more event fits now; it does not record it. */
  allows(nowMs: number): boolean {
    this.expire(nowMs);
    return this.times.length - this.head < this.limit;
  }

  record(nowMs: number): void {
    this.times.push(nowMs);
  }

  private expire(nowMs: number): void {
    while (this.head < this.times.length && nowMs - this.times[this.head]! >= this.windowMs) this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 256 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }
}
