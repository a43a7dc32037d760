/**
 * One subscriber's downlink estimate: what the server may send it, in bits per second.
 * The subscriber's browser runs the receive-side estimator over the abs-send-time the
 * server stamps on every video packet and reports the result with REMB; RTCP receiver
 * reports add its packet loss. Transport-free and clock-injected: the router feeds it
 * RTCP and reads `bps`.
 */

export interface DownlinkEstimateSettings {
  /** A REMB older than this no longer counts: the estimate is unknown (0). */
  rembStaleMs: number;
  /** A receiver report older than this no longer counts toward loss. */
  lossStaleMs: number;
  /** Above this loss fraction the estimate is cut by half the loss (GCC's loss-based rule); below it, loss is noise. */
  lossCutFraction: number;
}

/** Receiver reports kept per subscriber: one per SSRC we send it (a few m-sections each). */
const MAX_REPORTED_SSRCS = 32;

export class DownlinkEstimate {
  private rembBps = 0;
  private rembAtMs = -Infinity;
  /** Latest fraction lost (0..1) and its time, per SSRC we send this subscriber. */
  private readonly losses = new Map<number, { fraction: number; atMs: number }>();

  constructor(
    private readonly settings: DownlinkEstimateSettings,
    private readonly now: () => number,
  ) {}

  /** A REMB from the subscriber: its receive-side estimate for everything we send it. */
  onRemb(bitrateBps: number): void {
    if (!Number.isFinite(bitrateBps) || bitrateBps < 0) return;
    this.rembBps = bitrateBps;
    this.rembAtMs = this.now();
  }

  /** A reception report block about our SSRC `ssrc`: `fractionLost` as RTCP carries it (0..255 of 256). */
  onReceiverReport(ssrc: number, fractionLost: number): void {
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

  /** The subscriber's last REMB, or 0 when none is recent. */
  get rembBitrateBps(): number {
    return this.now() - this.rembAtMs <= this.settings.rembStaleMs ? this.rembBps : 0;
  }

  /** The worst recent loss over the streams we send it (0..1). */
  get lossFraction(): number {
    const now = this.now();
    let worst = 0;
    for (const entry of this.losses.values()) if (now - entry.atMs <= this.settings.lossStaleMs && entry.fraction > worst) worst = entry.fraction;
    return worst;
  }

  /** What the server may send this subscriber, in bps; 0 while unknown (no recent REMB). */
  get bps(): number {
    const remb = this.rembBitrateBps;
    if (remb === 0) return 0;
    const loss = this.lossFraction;
    return loss > this.settings.lossCutFraction ? Math.floor(remb * (1 - loss / 2)) : remb;
  }

  private forgetStale(): void {
    const now = this.now();
    for (const [ssrc, entry] of this.losses) if (now - entry.atMs > this.settings.lossStaleMs) this.losses.delete(ssrc);
  }
}
