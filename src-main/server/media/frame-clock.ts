import { systemClock, type Clock } from '../runtime/clock.js';

/** Something that calls back every period until stopped: the media clock, or a test's manual ticker. */
export interface Ticker {
  stop(): void;
}

/**
 * A drift-free periodic tick: each deadline is computed from the start time, not
 * from when the previous callback ran, so timer lateness never accumulates. The
 * callback gets how late this tick is (ms); a late tick is never skipped.
 */
export class FrameClock implements Ticker {
  private timer: unknown;
  private tick = 0;
  private stopped = false;
  private readonly start: number;

  constructor(
    private readonly periodMs: number,
    private readonly onTick: (lateMs: number) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.start = clock.monotonic();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    const due = this.start + (this.tick + 1) * this.periodMs;
    this.timer = this.clock.setTimeout(() => {
      this.tick++;
      this.onTick(Math.max(0, this.clock.monotonic() - due));
      if (!this.stopped) this.schedule();
    }, Math.max(0, due - this.clock.monotonic()));
  }
}
