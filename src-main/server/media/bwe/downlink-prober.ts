/**
 * Finds out whether a subscriber's link can take more before a paused video is resumed on it.
 *
 * The downlink figure only learns from what is sent: while videos are paused nothing tells it
 * the link got better, and resuming a video to find out costs the viewer a tile that starts and
 * freezes again. So, when videos are paused and a probe is due, the router sends padding on a
 * paused m-section for `durationMs`, up to the rate the next video would need. The subscriber's
 * receiver reports then say whether it got through: with loss at most `maxLossFraction` the
 * figure is raised to that rate, the video resumes at once and the next one may be probed for
 * right away; otherwise nothing is resumed and the next probe waits twice as long (up to
 * `maxIntervalMs`; the first failure after a success waits only `firstIntervalMs`). Loss alone
 * comes too late on a link with a deep queue: a router that buffers 200 ms takes a probe 20 % over
 * its rate for a second before it drops anything, and the videos resumed on that success then
 * overflow it. So the round trip of sender reports sent during the probe counts too: a queue over
 * `maxQueueDelayMs` fails it, and stops its padding at once (the router calls `abandonIfQueued`),
 * before the queue overflows onto the videos. The padding's own loss must not count as congestion
 * of the videos: the estimate ignores loss during a probe and its reports.
 * Pure and clock-injected.
 */

export interface DownlinkProberSettings {
  /** How long padding is sent. */
  durationMs: number;
  /** A probe is evaluated only on receiver reports that arrived at least this long after it began. */
  reportDelayMs: number;
  /** No such report this long after the padding stopped: the probe failed. */
  verdictTimeoutMs: number;
  /** Wait before the first probe, and (the router's rule) after the figure was cut for congestion. */
  firstIntervalMs: number;
  /** The longest wait between failed probes. */
  maxIntervalMs: number;
  /** Loss in the reports after a probe up to this fraction is a success. */
  maxLossFraction: number;
  /** After a failed probe, loss reported for this long is the padding's queue draining, not congestion. */
  drainMs: number;
  /** Queueing delay (round trip over the link's base) during a probe above this fails it. */
  maxQueueDelayMs: number;
}

/** `inconclusive`: no receiver report came (a client that sends none): nothing learned either way. */
export type ProbeVerdict = 'succeeded' | 'failed' | 'inconclusive';

export class DownlinkProber {
  private probe: { startMs: number; endMs: number; targetBps: number; paddingBps: number; abandoned: boolean } | undefined;
  private intervalMs: number;
  private nextAtMs: number;
  private lastVerdict: ProbeVerdict | undefined;

  constructor(
    private readonly settings: DownlinkProberSettings,
    private readonly now: () => number,
  ) {
    this.intervalMs = settings.firstIntervalMs;
    this.nextAtMs = now() + settings.firstIntervalMs;
  }

  /** Padding to send now, in bps (0 outside a probe's sending window). */
  get paddingBps(): number {
    const p = this.probe;
    return p && this.now() < p.endMs ? p.paddingBps : 0;
  }

  /** A probe is running, or waits for its verdict. */
  get active(): boolean {
    return this.probe !== undefined;
  }

  /** The rate the running probe tries. */
  get targetBps(): number {
    return this.probe?.targetBps ?? 0;
  }

  /** The last probe failed: the next one should ask for less (only the next video). */
  get lastFailed(): boolean {
    return this.lastVerdict === 'failed';
  }

  /** Until when the running probe sends (or sent) padding (undefined when none runs). */
  get sendsUntilMs(): number | undefined {
    return this.probe?.endMs;
  }

  /** When the running probe began (undefined when none runs). */
  get startedAtMs(): number | undefined {
    return this.probe?.startMs;
  }

  /** Since when reports describe the running probe (undefined when none runs). */
  get reportsFromMs(): number | undefined {
    return this.probe && this.probe.startMs + this.settings.reportDelayMs;
  }

  /** Whether the running probe has stopped sending and its reports can be judged. */
  get due(): boolean {
    return this.probe !== undefined && this.now() >= this.probe.endMs;
  }

  /** Whether the running probe has waited for its reports as long as it may. */
  get overdue(): boolean {
    return this.probe !== undefined && this.now() >= this.probe.endMs + this.settings.verdictTimeoutMs;
  }

  /** Until when the running probe's padding and its reports can be lost (the estimate must not count it). */
  get suspendUntilMs(): number {
    return this.probe ? this.probe.endMs + this.settings.verdictTimeoutMs + 1 : -Infinity;
  }

  /** Starts a probe toward `targetBps` with `paddingBps` of padding, if one is allowed now. */
  start(targetBps: number, paddingBps: number): boolean {
    const now = this.now();
    if (this.probe || now < this.nextAtMs || paddingBps <= 0) return false;
    this.probe = { startMs: now, endMs: now + this.settings.durationMs, targetBps, paddingBps, abandoned: false };
    return true;
  }

  /**
   * The link is queueing the padding: it stops now (before the queue overflows onto the videos), and
   * the probe has failed. Returns whether that changed anything (a running, still sending probe).
   */
  abandonIfQueued(queueDelayMs: number | undefined): boolean {
    const p = this.probe;
    if (!p || p.abandoned || queueDelayMs === undefined || queueDelayMs <= this.settings.maxQueueDelayMs) return false;
    p.abandoned = true;
    p.endMs = Math.min(p.endMs, this.now());
    return true;
  }

  /** Whether the running probe was stopped early for queueing (its verdict is known: failed). */
  get abandoned(): boolean {
    return this.probe?.abandoned ?? false;
  }

  /**
   * Judges the finished probe on the worst loss reported since `reportsFromMs` (undefined: no report
   * came) and the worst queueing delay of the sender reports sent during it (undefined: none echoed).
   */
  finish(worstLoss: number | undefined, worstQueueDelayMs?: number): ProbeVerdict {
    const now = this.now();
    const abandoned = this.probe?.abandoned ?? false;
    this.probe = undefined;
    const queued = abandoned || (worstQueueDelayMs !== undefined && worstQueueDelayMs > this.settings.maxQueueDelayMs);
    if (!queued && worstLoss !== undefined && worstLoss <= this.settings.maxLossFraction) {
      // The next paused video may be probed for at once: a link that got better usually has room for all.
      this.intervalMs = this.settings.firstIntervalMs;
      this.nextAtMs = now;
      return (this.lastVerdict = 'succeeded');
    }
    // The first failure after a success waits only the first interval: the link just carried nearly as
    // much, and the likeliest cause is a moment's loss (measured: a loaded Chromium dropping 10-36 % of a
    // probe with no queue on its link); more failures in a row back off.
    this.intervalMs = this.lastVerdict === 'succeeded' ? this.settings.firstIntervalMs : Math.min(this.settings.maxIntervalMs, this.intervalMs * 2);
    this.nextAtMs = now + this.intervalMs;
    return (this.lastVerdict = worstLoss === undefined && !queued ? 'inconclusive' : 'failed');
  }
}
