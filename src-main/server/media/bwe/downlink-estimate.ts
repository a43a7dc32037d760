import { BitrateMeter } from './bitrate-meter.js';

/**
 * One subscriber's downlink estimate: what the server may send it, in bits per second.
 *
 * Its inputs are the subscriber's REMB (Chrome's receive-side estimator, run over the
 * abs-send-time the server stamps on every video packet), the loss in its RTCP receiver
 * reports, and what the server actually sent it. A REMB alone cannot be the figure: the
 * estimator never rises above 1.5 times what it receives, so while a client receives little
 * (tiles still starting, or paused because the figure was low) REMB stays low too, and the
 * SDK's priority policy pauses everything for good (measured: 50-170 kbps on loopback).
 *
 * So REMB and loss are taken as congestion signals, as a sender-side controller would:
 * - congested (loss over `lossCutFraction`; or a REMB that fell, which Chrome's estimator does
 *   only on over-use, to under `rembCongestedRatio` of what was sent, while some loss is
 *   reported): the figure drops to what got through (sent, less the streams' mean loss) when the
 *   round trips of sender reports show a queue; when they show none, only once a later report
 *   repeats the loss (a loaded browser drops bursts itself), and to no less than that; to the REMB
 *   cut by half the loss when there are no round trips; and holds for `holdMs`. A REMB still climbing toward what is sent
 *   is only lagging; a loss-free drop is not trusted either, as the SDK's own policy does not
 *   trust one: on a loaded machine Chrome's delay-based estimator falls to a few kbps on
 *   loopback (measured with four Chromium pages on two cores: REMB 5-250 kbps while 1.2 Mbps
 *   arrived without loss);
 * - otherwise it grows by `increasePerSecond` a second from the higher of itself and the
 *   REMB, up to `maxBps`. The client then resumes or upgrades videos, which is the probe:
 *   if the link cannot take them, loss or REMB says so at the next update.
 *
 * Transport-free and clock-injected: the router feeds it RTCP and sent bytes, and calls
 * `update` on the media clock.
 */

export interface DownlinkEstimateSettings {
  /** The figure before any feedback (the SDK's own startup assumption is 2800 kbps). */
  initialBps: number;
  /** Never below this, never above that. */
  minBps: number;
  maxBps: number;
  /** Growth while uncongested, as a fraction per second (libwebrtc's AIMD uses 0.08). */
  increasePerSecond: number;
  /** After congestion, no growth for this long. */
  holdMs: number;
  /**
   * After a cut, no further cut for this long: the loss and REMB that follow still describe the
   * queue that built up before the cut took effect (a receiver report covers the second before it).
   */
  recutAfterMs: number;
  /** A REMB older than this no longer counts. */
  rembStaleMs: number;
  /** A receiver report older than this no longer counts toward loss. */
  lossStaleMs: number;
  /** Loss above this fraction is congestion, and cuts the figure by half the loss; below it, noise. */
  lossCutFraction: number;
  /**
   * Round trips this much over the link's least one lately (sender reports echoed in receiver reports)
   * mean a queue at a bottleneck. Loss without such a queue (a burst a loaded browser dropped itself)
   * cuts only once a later report repeats it, and no lower than what got through.
   */
  queueCongestedMs: number;
  /** A falling REMB below this fraction of what was sent (over the meter's window) is congestion. */
  rembCongestedRatio: number;
  /** Sent rates below this say nothing about the link (a trickle of audio-free video, keyframes only). */
  minSentBpsForRemb: number;
  /** What was sent: bytes over this window, in buckets of this size. */
  sentWindowMs: number;
  sentBucketMs: number;
}

/** Receiver reports kept per subscriber: one per SSRC we send it (a few m-sections each). */
const MAX_REPORTED_SSRCS = 32;
/** Round-trip samples kept (a few a second: one per report block that echoes a sender report). */
const ROUND_TRIPS_KEPT = 64;
/** A probe's queueing is its round trips over the least one of this long before it. */
const BASELINE_BEFORE_MS = 5000;
/** The link's own round trip is the least seen over the last one or two of these windows. */
const BASE_RTT_WINDOW_MS = 15_000;
/** The queue now: round trips of sender reports sent this recently. */
const RECENT_RTT_MS = 2000;

export class DownlinkEstimate {
  private rembBps = 0;
  private rembAtMs = -Infinity;
  /** The last REMB was lower than the one before: the estimator saw over-use. */
  private rembFell = false;
  /** Latest fraction lost (0..1) and its time, per SSRC we send this subscriber. */
  private readonly losses = new Map<number, { fraction: number; atMs: number }>();
  private readonly sent: BitrateMeter;
  private figure: number;
  private lastUpdateMs: number;
  private congestedAtMs = -Infinity;
  /** When the figure was last cut for congestion. */
  private cutAtMs = -Infinity;
  /** When loss with no queue behind it was first seen (-Infinity: it was not, at the last update). */
  private unqueuedLossAtMs = -Infinity;
  /** Until then loss says nothing about the videos (a probe's padding is being lost): no cut, no growth. */
  private suspendedUntilMs = -Infinity;
  /** Reports that arrived before this described a failed probe's padding draining: never the videos' congestion. */
  private drainedAtMs = -Infinity;
  /** Recent round trips (ring): when the echoed sender report left, and how long it took. */
  private readonly rttSentAtMs = new Float64Array(ROUND_TRIPS_KEPT).fill(-Infinity);
  private readonly rttMs = new Float64Array(ROUND_TRIPS_KEPT);
  private rttNext = 0;
  /** The least round trip in this window and in the one before it: the link with an empty queue. */
  private readonly baseRtt = { currentMs: Infinity, previousMs: Infinity, windowStartMs: -Infinity };
  /** The highest sequence number each SSRC's last report counted: a report that counts no new packet says nothing. */
  private readonly reportedHighest = new Map<number, number>();
  /** SSRCs we do not send now (paused videos): outside a probe, their reports are no evidence. */
  private readonly stopped = new Set<number>();

  constructor(
    private readonly settings: DownlinkEstimateSettings,
    private readonly now: () => number,
  ) {
    this.sent = new BitrateMeter(settings.sentWindowMs, settings.sentBucketMs);
    this.figure = settings.initialBps;
    this.lastUpdateMs = now();
  }

  /** A REMB from the subscriber: its receive-side estimate for everything we send it. */
  onRemb(bitrateBps: number): void {
    if (!Number.isFinite(bitrateBps) || bitrateBps < 0) return;
    // Chrome repeats its estimate about once a second and sends at once when it drops by 3% or more.
    if (bitrateBps < this.rembBitrateBps * 0.97) this.rembFell = true;
    else if (bitrateBps > this.rembBps) this.rembFell = false;
    this.rembBps = bitrateBps;
    this.rembAtMs = this.now();
  }

  /**
   * A reception report block about our SSRC `ssrc`: `fractionLost` as RTCP carries it (0..255 of 256),
   * and the extended highest sequence number it has received. A report over an interval in which that
   * SSRC carried nothing (a paused video: "0 lost" of nothing) is no evidence, and is left out.
   */
  onReceiverReport(ssrc: number, fractionLost: number, highestSequence?: number): void {
    if (highestSequence !== undefined) {
      const before = this.reportedHighest.get(ssrc);
      if (before === undefined && this.reportedHighest.size >= MAX_REPORTED_SSRCS) this.reportedHighest.clear();
      this.reportedHighest.set(ssrc, highestSequence);
      if (before === highestSequence) return;
    }
    if (this.stopped.has(ssrc) && this.now() >= this.suspendedUntilMs) return;
    const entry = this.losses.get(ssrc);
    const fraction = Math.min(255, Math.max(0, fractionLost)) / 256;
    if (entry) {
      entry.fraction = fraction;
      entry.atMs = this.now();
      return;
    }
    if (this.losses.size >= MAX_REPORTED_SSRCS) this.forgetStale();
    if (this.losses.size < MAX_REPORTED_SSRCS) this.losses.set(ssrc, { fraction, atMs: this.now() });
  }

  /**
   * Whether we send the stream `ssrc` now. While we do not (a paused video), its reports describe
   * packets sent before the pause, already acted on by pausing it: they are no evidence, and its last
   * one is forgotten. Kept, that loss would cut again 3 s later (measured with Chromium: a flood's
   * 92 %, reported about videos since paused, cut a 1 Mbit/s link's figure to 326 kbps, then 100 kbps,
   * and paused the one video that fitted). During a probe its reports count: they describe the padding.
   */
  setSending(ssrc: number, sending: boolean): void {
    if (sending) {
      this.stopped.delete(ssrc);
      return;
    }
    this.losses.delete(ssrc);
    if (this.stopped.size >= MAX_REPORTED_SSRCS) this.stopped.clear();
    this.stopped.add(ssrc);
  }

  /** A report block echoed a sender report that left at `srSentAtMs` and came back after `rttMs`. */
  onRoundTrip(rttMs: number, srSentAtMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0 || !Number.isFinite(srSentAtMs)) return;
    const base = this.baseRtt;
    const now = this.now();
    if (now - base.windowStartMs >= BASE_RTT_WINDOW_MS) {
      base.previousMs = base.currentMs;
      base.currentMs = Infinity;
      base.windowStartMs = now;
    }
    base.currentMs = Math.min(base.currentMs, rttMs);
    const slot = this.rttNext;
    this.rttNext = (slot + 1) % ROUND_TRIPS_KEPT;
    this.rttSentAtMs[slot] = srSentAtMs;
    this.rttMs[slot] = rttMs;
  }

  /**
   * How much longer than before `sinceMs` the round trip grew for sender reports sent from then until
   * `untilMs`: the queue something sent then (a probe's padding) built on the link. The least round
   * trip of the 5 s before is the baseline (a loaded browser answers later all the time, which is not
   * queueing); of the reports sent in the span, the second longest counts (one late echo alone can be
   * the receiver's own hiccup; with `minSamples` 1, a lone echo counts as it is). Undefined until
   * `minSamples` came back, or with no baseline.
   */
  queueDelaySince(sinceMs: number, untilMs = Infinity, minSamples = 2): number | undefined {
    let baseline = Infinity;
    for (let i = 0; i < ROUND_TRIPS_KEPT; i++) {
      const sentAt = this.rttSentAtMs[i]!;
      if (sentAt < sinceMs && sentAt >= sinceMs - BASELINE_BEFORE_MS && this.rttMs[i]! < baseline) baseline = this.rttMs[i]!;
    }
    // Nothing came back just before (every video paused): the link's least round trip lately.
    if (baseline === Infinity) baseline = this.baseRttMs;
    const { samples, worst, second } = this.longestRoundTrips(sinceMs, untilMs);
    if (samples < minSamples || baseline === Infinity) return undefined;
    return (samples >= 2 ? second : worst) - baseline;
  }

  /**
   * The queue on the link now: the round trip of sender reports sent in the last 2 s (the second
   * longest) over the least one lately seen. Undefined until two came back.
   */
  get queueingMs(): number | undefined {
    const { samples, second } = this.longestRoundTrips(this.now() - RECENT_RTT_MS, Infinity);
    const base = this.baseRttMs;
    return samples < 2 || base === Infinity ? undefined : second - base;
  }

  /** The least round trip in this window and the one before: the link with an empty queue. */
  private get baseRttMs(): number {
    return Math.min(this.baseRtt.currentMs, this.baseRtt.previousMs);
  }

  /** How many sender reports sent from `fromMs` to `untilMs` came back, and their longest and second longest round trips. */
  private longestRoundTrips(fromMs: number, untilMs: number): { samples: number; worst: number; second: number } {
    let samples = 0;
    let worst = -Infinity;
    let second = -Infinity;
    for (let i = 0; i < ROUND_TRIPS_KEPT; i++) {
      const sentAt = this.rttSentAtMs[i]!;
      if (sentAt < fromMs || sentAt > untilMs) continue;
      samples++;
      const rtt = this.rttMs[i]!;
      if (rtt > worst) {
        second = worst;
        worst = rtt;
      } else if (rtt > second) second = rtt;
    }
    return { samples, worst, second };
  }

  /** Hot path: a packet of `bytes` went to this subscriber. */
  onSent(bytes: number): void {
    this.sent.add(bytes, this.now());
  }

  /** The subscriber's last REMB, or 0 when none is recent. */
  get rembBitrateBps(): number {
    return this.now() - this.rembAtMs <= this.settings.rembStaleMs ? this.rembBps : 0;
  }

  /** The worst recent loss over the streams we send it (0..1). */
  get lossFraction(): number {
    const now = this.now();
    let worst = 0;
    for (const entry of this.losses.values()) if (this.isCurrent(entry, now) && entry.fraction > worst) worst = entry.fraction;
    return worst;
  }

  /**
   * The mean recent loss over the streams whose last report saw some (0..1): what share of what it was
   * sent got lost, near enough. A bottleneck drops from every stream alike, and the worst of six reports
   * overstates it (measured: 93 % reported of 3.2 Mbps into a 1 Mbit/s link). A stream whose last report
   * saw none describes the time before the congestion began, and would understate it.
   */
  get meanLossFraction(): number {
    const now = this.now();
    let sum = 0;
    let n = 0;
    for (const entry of this.losses.values()) {
      if (entry.fraction === 0 || !this.isCurrent(entry, now)) continue;
      sum += entry.fraction;
      n++;
    }
    return n === 0 ? 0 : sum / n;
  }

  /** A loss report is evidence until it goes stale, unless it described a failed probe's padding draining. */
  private isCurrent(entry: { atMs: number }, now: number): boolean {
    return now - entry.atMs <= this.settings.lossStaleMs && entry.atMs >= this.drainedAtMs;
  }

  /** What was sent to it lately, in bps. */
  get sentBps(): number {
    return this.sent.bps(this.now());
  }

  /** Whether the last update found congestion and the figure is still held down. */
  get holding(): boolean {
    return this.now() - this.congestedAtMs < this.settings.holdMs;
  }

  /** What the server may send this subscriber, in bps, as of the last update. */
  get bps(): number {
    return this.figure;
  }

  /** When the figure was last cut for congestion (-Infinity: never). */
  get lastCutMs(): number {
    return this.cutAtMs;
  }

  /** The worst loss in receiver reports that arrived at or after `sinceMs`; undefined when none did. */
  worstLossSince(sinceMs: number): number | undefined {
    let worst: number | undefined;
    for (const entry of this.losses.values()) if (entry.atMs >= sinceMs && (worst === undefined || entry.fraction > worst)) worst = entry.fraction;
    return worst;
  }

  /** A probe's padding goes out until `untilMs`, and its loss is reported after: neither cut nor grow until then. */
  suspendUntil(untilMs: number): void {
    this.suspendedUntilMs = Math.max(this.suspendedUntilMs, untilMs);
  }

  /** A probe got `bps` through without loss: the figure is at least that, and growth may go on. */
  probeSucceeded(bps: number): void {
    this.figure = Math.ceil(Math.min(this.settings.maxBps, Math.max(this.figure, bps)));
    this.congestedAtMs = -Infinity;
    this.endSuspension();
  }

  /**
   * A probe was lost: the figure stays (the videos fitted before it), and does not grow for the hold
   * time. The queue the padding built drains for a moment after it, so the reports of the next
   * `drainMs` are not taken for congestion of the videos either.
   */
  probeFailed(drainMs: number): void {
    this.congestedAtMs = this.now();
    this.endSuspension();
    this.suspendedUntilMs = this.now() + drainMs;
    this.drainedAtMs = this.suspendedUntilMs;
  }

  /** A probe told nothing (no report came): the figure moves again as before it. */
  probeInconclusive(): void {
    this.endSuspension();
  }

  /** The reports so far describe the probe, not the videos: forgotten, and the figure moves again. */
  private endSuspension(): void {
    this.suspendedUntilMs = -Infinity;
    this.losses.clear();
    this.rembFell = false;
  }

  /** Re-reads the signals and moves the figure; call it regularly (each BITRATES report). */
  update(): number {
    const s = this.settings;
    const now = this.now();
    const elapsedS = Math.max(0, now - this.lastUpdateMs) / 1000;
    this.lastUpdateMs = now;
    const remb = this.rembBitrateBps;
    const loss = this.lossFraction;
    const sent = this.sentBps;
    if (now < this.suspendedUntilMs) return this.figure;
    const lossy = loss > s.lossCutFraction;
    const rembLow = remb > 0 && this.rembFell && loss > 0 && sent >= s.minSentBpsForRemb && remb < s.rembCongestedRatio * sent;
    const queueing = this.queueingMs;
    // Loss with no queue behind it is a burst the browser dropped itself (a loaded one, as several resumed
    // videos' keyframes arrive), or a policer: counted only once a report after the first says it again.
    const unqueued = lossy && queueing !== undefined && queueing <= s.queueCongestedMs;
    const firstUnqueued = unqueued && !this.unqueuedLossRecurred();
    if (!unqueued) this.unqueuedLossAtMs = -Infinity;
    else if (this.unqueuedLossAtMs === -Infinity) this.unqueuedLossAtMs = now;
    if ((lossy || rembLow) && now - this.congestedAtMs < s.recutAfterMs) {
      // Still draining what was sent before the last cut: hold, do not cut again.
    } else if (firstUnqueued && !rembLow) {
      // Once is no evidence yet (measured: a loaded Chromium reported 25-36 % lost, with no queue, right
      // after videos resumed; cutting for it paused three of them again). Hold; cut if it recurs.
    } else if (lossy || rembLow) {
      this.unqueuedLossAtMs = -Infinity;
      const base = remb > 0 ? Math.min(remb, this.figure) : Math.min(sent, this.figure);
      // The round trips say which loss this is. With a queue behind it, a bottleneck: the figure becomes
      // what got through (sent, less the loss), whatever the REMB says (measured: a REMB still at 3.1 Mbps
      // over a full 1 Mbit/s link, and 80 kbps from a loaded browser receiving 500 kbps whole). With no
      // queue, no bottleneck (a loaded browser dropped a burst itself): never below what got through.
      // Without round trips (a client that echoes no sender report), the REMB cut by half the loss.
      const cut = base * (1 - loss / 2);
      const delivered = Math.min(sent * (1 - this.meanLossFraction), this.figure);
      if (!lossy) this.figure = base;
      else if (queueing === undefined) this.figure = cut;
      else this.figure = queueing > s.queueCongestedMs ? delivered : Math.max(cut, delivered);
      this.congestedAtMs = now;
      this.cutAtMs = now;
    } else if (!this.holding) {
      this.figure = Math.max(this.figure, remb) * (1 + s.increasePerSecond * elapsedS);
    }
    this.figure = Math.round(Math.min(s.maxBps, Math.max(s.minBps, this.figure)));
    return this.figure;
  }

  /** Whether a report that arrived after loss with no queue was first seen says it again. */
  private unqueuedLossRecurred(): boolean {
    if (this.unqueuedLossAtMs === -Infinity) return false;
    return (this.worstLossSince(this.unqueuedLossAtMs + 1) ?? 0) > this.settings.lossCutFraction;
  }

  private forgetStale(): void {
    const now = this.now();
    for (const [ssrc, entry] of this.losses) if (now - entry.atMs > this.settings.lossStaleMs) this.losses.delete(ssrc);
  }
}
