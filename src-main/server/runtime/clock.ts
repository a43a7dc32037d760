/** Time and timers, injected so lifecycle logic can be tested with a manual clock. */
export interface Clock {
  /** Wall-clock time in ms (Date.now): what is stored and shown. */
  now(): number;
  /** Monotonic time in ms (performance.now): what durations and media timing are measured with. */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // Lifecycle timers must never keep a shutting-down process alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
