/**
 * Chooses which videos one subscriber keeps when its downlink figure cannot carry them
 * all: in priority order each video takes its measured rate from the budget, and one that
 * does not fit is paused (a cheaper, lower-priority one may still fit after it). A paused
 * video comes back only once it has fitted, with `resumeMargin` to spare, for `resumeAfterMs`
 * in a row: pausing is immediate, resuming is not, so a figure near the edge does not flap.
 * Pure and clock-injected; the media layer applies its answer and tells the client.
 */

export interface DownlinkAllocatorSettings {
  /** Share of the downlink figure videos may use (the rest is audio, RTCP and headroom). */
  budgetShare: number;
  /** A paused video must fit this many times over before it counts as fitting. */
  resumeMargin: number;
  /** ...for this long in a row. */
  resumeAfterMs: number;
}

export interface AllocationCandidate {
  id: string;
  /** Its measured rate, in bps (what it costs whether or not this subscriber gets it now). */
  bps: number;
}

export class DownlinkAllocator {
  private readonly paused = new Set<string>();
  /** Since when each paused video has fitted, with margin. */
  private readonly fittingSince = new Map<string, number>();

  constructor(
    private readonly settings: DownlinkAllocatorSettings,
    private readonly now: () => number,
  ) {}

  /** The videos paused now. */
  get pausedIds(): ReadonlySet<string> {
    return this.paused;
  }

  /**
   * Re-allocates `budgetBps` (the downlink figure; 0 for unknown, which pauses nothing) over
   * `candidates`, most important first. Returns what changed.
   */
  allocate(candidates: readonly AllocationCandidate[], figureBps: number): { paused: string[]; resumed: string[] } {
    const changes = { paused: [] as string[], resumed: [] as string[] };
    const now = this.now();
    const present = new Set(candidates.map((c) => c.id));
    for (const id of [...this.paused]) {
      if (!present.has(id)) {
        this.paused.delete(id);
        this.fittingSince.delete(id);
      }
    }
    if (figureBps <= 0) {
      for (const id of this.paused) changes.resumed.push(id);
      this.paused.clear();
      this.fittingSince.clear();
      return changes;
    }
    let left = figureBps * this.settings.budgetShare;
    for (const c of candidates) {
      if (!this.paused.has(c.id)) {
        if (c.bps <= left) left -= c.bps;
        else {
          this.paused.add(c.id);
          this.fittingSince.delete(c.id);
          changes.paused.push(c.id);
        }
        continue;
      }
      if (c.bps * this.settings.resumeMargin > left) {
        this.fittingSince.delete(c.id);
        continue;
      }
      const since = this.fittingSince.get(c.id) ?? now;
      this.fittingSince.set(c.id, since);
      if (now - since >= this.settings.resumeAfterMs) {
        this.paused.delete(c.id);
        this.fittingSince.delete(c.id);
        changes.resumed.push(c.id);
        left -= c.bps;
      } else {
        // Reserved while it proves itself, so a lower-priority video cannot take its place meanwhile.
        left -= c.bps;
      }
    }
    return changes;
  }
}
