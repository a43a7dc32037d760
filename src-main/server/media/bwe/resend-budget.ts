/**
 * How much a subscriber may be sent as retransmissions (answers to its NACKs), as a token bucket
 * over a share of its downlink figure. On a congested link a browser NACKs most of what it lost;
 * answering all of it sends more into the queue that is dropping packets, which loses more and is
 * NACKed again (measured: 8-13 Mbps sent to a viewer behind a 1 Mbit/s link). Past the budget a
 * NACK goes unanswered, and the receiver's keyframe request repairs the picture instead.
 * Clock-injected, allocation-free.
 */

export interface ResendBudgetSettings {
  /** Share of the subscriber's downlink figure retransmissions may use. */
  shareOfFigure: number;
  /** ...but never less than this (bps), so a low figure still repairs an occasional loss. */
  minBps: number;
  /** Bucket depth, as this many ms of the rate: a short burst of NACKs is answered whole. */
  burstMs: number;
}

export class ResendBudget {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly settings: ResendBudgetSettings,
    private readonly now: () => number,
  ) {
    this.lastMs = now();
    this.tokens = (settings.minBps / 8000) * settings.burstMs;
  }

  /** Takes `bytes` from the bucket if they fit now (the rate follows `figureBps`); false when they do not. */
  take(bytes: number, figureBps: number): boolean {
    const now = this.now();
    const bytesPerMs = Math.max(this.settings.minBps, figureBps * this.settings.shareOfFigure) / 8000;
    this.tokens = Math.min(bytesPerMs * this.settings.burstMs, this.tokens + bytesPerMs * Math.max(0, now - this.lastMs));
    this.lastMs = now;
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}
