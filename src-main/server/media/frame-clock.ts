/**
 * A drift-free 20 ms tick: each deadline is computed from the start time, not
 * from when the previous callback ran, so timer lateness never accumulates.
 */
export class FrameClock {
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private readonly start = performance.now();

  constructor(
    private readonly periodMs: number,
    private readonly onTick: (lateMs: number) => void,
  ) {
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const due = this.start + (this.tick + 1) * this.periodMs;
    this.timer = setTimeout(() => {
      this.tick++;
      this.onTick(Math.max(0, performance.now() - due));
      if (this.timer) this.schedule();
    }, Math.max(0, due - performance.now()));
    this.timer.unref();
  }
}
