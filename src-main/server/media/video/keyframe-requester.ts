/**
 * Keyframe requests toward one publisher stream, merged: subscribers joining,
 * resuming or losing packets all ask, but the publisher gets at most one PLI per
 * `minIntervalMs`, and another if no keyframe has come `retryMs` after the last.
 */
export interface KeyframeSettings {
  minIntervalMs: number;
  retryMs: number;
}

export class KeyframeRequester {
  /** PLIs actually sent. */
  sent = 0;
  private lastSentMs = -Infinity;
  /** Someone needs a keyframe that has not arrived yet. */
  private wanted = false;
  /** A PLI went out for the current need (so the next one waits for retryMs, not minIntervalMs). */
  private asked = false;

  constructor(
    private readonly settings: KeyframeSettings,
    private readonly sendPli: () => void,
  ) {}

  get waiting(): boolean {
    return this.wanted;
  }

  /** Asks for a keyframe: sent now, unless a PLI went out within minIntervalMs (then a later tick sends it). */
  request(nowMs: number): void {
    if (!this.wanted) {
      this.wanted = true;
      this.asked = false;
    }
    if (!this.asked && nowMs - this.lastSentMs >= this.settings.minIntervalMs) this.send(nowMs);
  }

  /** A keyframe arrived: whoever asked is served. */
  keyframeArrived(): void {
    this.wanted = false;
  }

  /** Sends a request that was held back, or repeats one that went unanswered for retryMs. */
  tick(nowMs: number): void {
    if (!this.wanted) return;
    const since = nowMs - this.lastSentMs;
    if (this.asked ? since >= this.settings.retryMs : since >= this.settings.minIntervalMs) this.send(nowMs);
  }

  private send(nowMs: number): void {
    this.lastSentMs = nowMs;
    this.asked = true;
    this.sent++;
    this.sendPli();
  }
}
