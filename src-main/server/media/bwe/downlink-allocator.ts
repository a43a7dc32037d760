/**
 * Chooses which videos one subscriber keeps when its downlink figure cannot carry them
 * all: in priority order each video takes its measured rate from the budget, and one that
 * does not fit is paused (a cheaper, lower-priority one may still fit after it). A paused
 * video comes back only once it has fitted, with `resumeMargin` to spare, for `resumeAfterMs`
 * in a row; a flowing one is paused only once the videos overrun the budget by more than
 * `pauseTolerance`: so a figure near the edge, or a rate that jumps for a moment, does not flap.
 * Resumes are spaced `resumeSpacingMs` apart, so their keyframes never arrive in one burst.
 * Pure and clock-injected; the media layer applies its answer and tells the client.
 */

export interface DownlinkAllocatorSettings {
  /** Share of the downlink figure videos may use (the rest is audio, RTCP and headroom). */
  budgetShare: number;
  /** A paused video must fit this many times over before it counts as fitting. */
  resumeMargin: number;
  /** ...for this long in a row. */
  resumeAfterMs: number;
  /**
   * Videos already flowing may together overrun the budget by this factor before one is paused: a
   * measured rate jumps for a moment (a keyframe, a resumed video's first second), and pausing on
   * that would flap. Congestion cuts the figure itself, far below such an overrun.
   */
  pauseTolerance: number;
  /**
   * At most one paused video resumes in this long. Each resume starts with a keyframe, several
   * times a frame's size: measured with Chromium behind 1 Mbit/s, three resumed together overran
   * tbf's 25 KB queue (35% of a report lost) and two were paused again at once.
   */
  resumeSpacingMs: number;
}

export interface AllocationCandidate {
  id: string;
  /** Its measured rate, in bps (what it costs whether or not this subscriber gets it now). */
  bps: number;
  /**
   * For a layered (SVC) video the server chooses layers of: what each step up its layer
   * ladder costs in all, ascending, up to the most this subscriber should get (its
   * preferences). The video is paused only when its lowest step does not fit, and takes
   * the highest step that fits once every video above it in priority has its lowest.
   */
  steps?: readonly number[];
}

export class DownlinkAllocator {
  private readonly paused = new Set<string>();
  /** Since when each paused video has fitted, with margin. */
  private readonly fittingSince = new Map<string, number>();
  /** For layered videos: the ladder step each is given (kept between rounds: going up needs a margin). */
  private readonly chosenSteps = new Map<string, number>();
  /** Paused videos a probe showed the link carries: each resumes at its turn, without `resumeAfterMs`. */
  private readonly cleared = new Set<string>();
  private lastResumeMs = -Infinity;

  constructor(
    private readonly settings: DownlinkAllocatorSettings,
    private readonly now: () => number,
  ) {}

  /** The ladder step a layered video was given in the last round (undefined for others, or paused ones). */
  stepOf(id: string): number | undefined {
    return this.chosenSteps.get(id);
  }

  /** The videos paused now. */
  get pausedIds(): ReadonlySet<string> {
    return this.paused;
  }

  /** Whether videos a probe cleared are still waiting for their turn to resume (what it proved is spoken for). */
  get resuming(): boolean {
    return this.cleared.size > 0;
  }

  /**
   * Re-allocates `budgetBps` (the downlink figure; 0 for unknown, which pauses nothing) over
   * `candidates`, most important first. `proven`: a probe just showed the link carries this figure,
   * so a paused video that fits with margin resumes now rather than after `resumeAfterMs`.
   * Returns what changed.
   */
  allocate(candidates: readonly AllocationCandidate[], figureBps: number, options: { proven?: boolean } = {}): { paused: string[]; resumed: string[] } {
    const changes = { paused: [] as string[], resumed: [] as string[] };
    const now = this.now();
    const present = new Set(candidates.map((c) => c.id));
    for (const id of [...this.paused]) {
      if (!present.has(id)) {
        this.paused.delete(id);
        this.fittingSince.delete(id);
        this.cleared.delete(id);
      }
    }
    for (const id of [...this.chosenSteps.keys()]) if (!present.has(id)) this.chosenSteps.delete(id);
    if (figureBps <= 0) {
      for (const id of this.paused) changes.resumed.push(id);
      this.paused.clear();
      this.fittingSince.clear();
      this.cleared.clear();
      // No figure: every layered video gets all it may have.
      for (const c of candidates) if (c.steps && c.steps.length > 0) this.chosenSteps.set(c.id, c.steps.length - 1);
      return changes;
    }
    let left = figureBps * this.settings.budgetShare;
    // What flowing videos may overrun by, shared among them.
    let tolerance = left * (this.settings.pauseTolerance - 1);
    let mayResume = now - this.lastResumeMs >= this.settings.resumeSpacingMs;
    // First every video its cheapest form, in priority order: what does not fit even so is paused.
    for (const c of candidates) {
      const cost = c.steps?.[0] ?? c.bps;
      if (!this.paused.has(c.id)) {
        if (cost <= left) left -= cost;
        else if (cost <= left + tolerance) {
          tolerance -= cost - left;
          left = 0;
        } else {
          this.paused.add(c.id);
          this.fittingSince.delete(c.id);
          this.chosenSteps.delete(c.id);
          changes.paused.push(c.id);
        }
        continue;
      }
      if (cost * this.settings.resumeMargin > left) {
        this.fittingSince.delete(c.id);
        this.cleared.delete(c.id);
        continue;
      }
      const since = this.fittingSince.get(c.id) ?? now;
      this.fittingSince.set(c.id, since);
      if (options.proven) this.cleared.add(c.id);
      if (mayResume && (this.cleared.has(c.id) || now - since >= this.settings.resumeAfterMs)) {
        this.paused.delete(c.id);
        this.fittingSince.delete(c.id);
        this.cleared.delete(c.id);
        changes.resumed.push(c.id);
        this.lastResumeMs = now;
        mayResume = false;
      }
      // Reserved while it proves itself, so a lower-priority video cannot take its place meanwhile.
      left -= cost;
    }
    // Then, in priority order, each layered video climbs its ladder as far as what is left allows;
    // above the step it had, only with the resume margin to spare, so a figure at the edge does not flap.
    for (const c of candidates) {
      const steps = c.steps;
      if (!steps || steps.length === 0 || this.paused.has(c.id)) continue;
      const had = this.chosenSteps.get(c.id) ?? 0;
      let step = 0;
      for (let next = 1; next < steps.length; next++) {
        const extra = steps[next]! - steps[0]!;
        const needed = next > had ? extra * this.settings.resumeMargin : extra;
        if (needed > left) break;
        step = next;
      }
      left -= steps[step]! - steps[0]!;
      this.chosenSteps.set(c.id, step);
    }
    return changes;
  }
}
