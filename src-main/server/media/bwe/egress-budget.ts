/**
 * A cap on all the video the hosting machine sends, shared out over every subscriber
 * of every meeting. A laptop hosting a room over Wi-Fi has one uplink for everybody's
 * downlink: without a cap, ten viewers of eight cameras ask it for far more than the
 * air carries, and everyone's audio suffers with the video.
 *
 * Shared by max-min fairness (water-filling): a subscriber that wants less than an
 * equal share gets what it wants; what it leaves over goes equally to the others.
 * Each subscriber's demand is what its videos would cost if all fitted; meetings report
 * their subscribers' demands as they allocate and read back each one's cap.
 */
export class EgressBudget {
  /** subscriber key -> demand, bps */
  private readonly demands = new Map<string, number>();
  /** Every subscriber wanting more than this gets exactly this; Infinity when every demand fits. */
  private level = Infinity;
  /** When every demand fits: the budget left over, per subscriber (headroom to grow into). */
  private sparePerSubscriber = 0;
  private stale = true;

  /** `totalBps` 0 (or less) means no cap. */
  constructor(private total: number) {}

  get totalBps(): number {
    return this.total;
  }

  /** Changes the cap (0: none), e.g. when the host's network changes. */
  setTotalBps(bps: number): void {
    this.total = bps;
    this.stale = true;
  }

  get limited(): boolean {
    return this.total > 0;
  }

  /** Reports what `key` (a meeting's subscriber) would receive if everything fitted. */
  setDemand(key: string, bps: number): void {
    if (this.demands.get(key) === bps) return;
    this.demands.set(key, bps);
    this.stale = true;
  }

  remove(key: string): void {
    if (this.demands.delete(key)) this.stale = true;
  }

  /** What `key` may be sent, bps: its fair share of the budget (Infinity without a cap). */
  capFor(key: string): number {
    if (!this.limited) return Infinity;
    if (this.stale) this.recompute();
    if (this.level !== Infinity) return this.level;
    return Math.max(0, this.demands.get(key) ?? 0) + this.sparePerSubscriber;
  }

  private recompute(): void {
    this.stale = false;
    const sorted = [...this.demands.values()].map((d) => Math.max(0, d)).sort((a, b) => a - b);
    let left = this.total;
    this.sparePerSubscriber = 0;
    for (let i = 0; i < sorted.length; i++) {
      const equal = left / (sorted.length - i);
      if (sorted[i]! >= equal) {
        this.level = equal;
        return;
      }
      left -= sorted[i]!;
    }
    // Every demand fits: nobody is held back, and what is left is headroom shared equally.
    this.level = Infinity;
    this.sparePerSubscriber = sorted.length > 0 ? left / sorted.length : left;
  }
}
