/**
 * Counts failed attempts per key in a sliding window, so passcode guessing is
 * throttled per client address and per meeting without slowing honest joins.
 */
export class AttemptLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** True while `key` has used up its failures in the current window. */
  blocked(key: string): boolean {
    return this.recent(key).length >= this.maxFailures;
  }

  /** Failures of `key` in the current window. */
  count(key: string): number {
    return this.recent(key).length;
  }

  recordFailure(key: string): void {
    const list = this.recent(key);
    list.push(this.now());
    this.failures.set(key, list);
    // Keep the map bounded under a flood of distinct keys.
    if (this.failures.size > 10_000) this.prune();
  }

  /** Seconds until `key` may try again (at least 1 while blocked). */
  retryAfterSeconds(key: string): number {
    const list = this.recent(key);
    if (list.length === 0) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - this.now()) / 1000));
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}

export interface PasscodeLimits {
  /** Wrong passcodes allowed per client address in the window (guesses being checked count too). */
  maxFailuresPerAddress: number;
  /** Wrong passcodes allowed per meeting in the window, from addresses and devices that never got in. */
  maxFailuresPerMeeting: number;
  windowMs: number;
  /** Passcode checks (each a deliberately slow hash) at once for one address; more are refused at once. */
  maxConcurrentPerAddress: number;
  /** Passcode checks running at once for one meeting; more wait their turn (see below). */
  maxConcurrentPerMeeting: number;
  /** Checks that may wait for one meeting, and how long each may wait, before being refused. */
  maxQueuedPerMeeting: number;
  maxQueueWaitMs: number;
}

/** Why a guess was not even checked; the caller answers ThrottlingException with Retry-After. */
export interface Throttled {
  retryAfterSeconds: number;
  message: string;
}

/** One passcode check in progress: settle it once, with whether the passcode was right. */
export interface PasscodeTicket {
  settle(correct: boolean): void;
}

/** Timers for the wait queue (the Clock's, in the server). */
export interface GuardTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const BUSY: Throttled = { retryAfterSeconds: 1, message: 'Too many passcode checks at once; try again in a moment' };

/**
 * Passcode guessing limits. A guess is counted when it starts, not when its slow
 * hash ends (acquire, then settle), so a thousand guesses sent at once are
 * counted like a thousand sent one by one. Only a few hashes run at once per
 * address (more are refused) and per meeting (more wait a little in a bounded
 * queue, so a crowd joining at the start of a meeting is served, not refused).
 * The per-meeting limits protect against guesses from many addresses, yet never
 * hold back an address or device that got in before (`known`): an attacker can
 * lock out only newcomers, never the people already in.
 */
export class PasscodeGuard {
  private readonly addressFailures: AttemptLimiter;
  private readonly meetingFailures: AttemptLimiter;
  /** Checks running or waiting, per address and per meeting key. */
  private readonly pending = new Map<string, number>();
  /** Checks running, per meeting key. */
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly limits: PasscodeLimits,
    private readonly timers: GuardTimers,
  ) {
    const now = (): number => timers.now();
    this.addressFailures = new AttemptLimiter(limits.maxFailuresPerAddress, limits.windowMs, now);
    this.meetingFailures = new AttemptLimiter(limits.maxFailuresPerMeeting, limits.windowMs, now);
  }

  /** Starts one check for `address` on `meeting` (waiting for the meeting's turn if need be), or says why it may not. */
  async acquire(address: string, meeting: string, known: boolean): Promise<PasscodeTicket | Throttled> {
    const addressKey = `address:${address}`;
    const meetingKey = `meeting:${meeting}`;
    const addressBusy = count(this.pending, addressKey);
    if (addressBusy >= this.limits.maxConcurrentPerAddress) return BUSY;
    // Checks still running or waiting count as failures until they settle: they may well be.
    if (this.addressFailures.count(addressKey) + addressBusy >= this.limits.maxFailuresPerAddress) {
      const retry = Math.max(1, this.addressFailures.retryAfterSeconds(addressKey));
      return { retryAfterSeconds: retry, message: `Too many wrong passcodes; try again in ${retry} s` };
    }
    if (!known && this.meetingFailures.count(meetingKey) + count(this.pending, meetingKey) >= this.limits.maxFailuresPerMeeting) {
      const retry = Math.max(1, this.meetingFailures.retryAfterSeconds(meetingKey));
      return { retryAfterSeconds: retry, message: `Too many wrong passcodes for this meeting; try again in ${retry} s` };
    }
    add(this.pending, addressKey, 1);
    add(this.pending, meetingKey, 1);
    if (!known && count(this.running, meetingKey) >= this.limits.maxConcurrentPerMeeting) {
      // A settling check hands its running slot straight to the first in the queue.
      if (!(await this.turn(meetingKey))) {
        add(this.pending, addressKey, -1);
        add(this.pending, meetingKey, -1);
        return BUSY;
      }
    } else {
      add(this.running, meetingKey, 1);
    }
    let settled = false;
    return {
      settle: (correct) => {
        if (settled) return;
        settled = true;
        add(this.pending, addressKey, -1);
        add(this.pending, meetingKey, -1);
        const next = this.waiting.get(meetingKey)?.shift();
        if (next) next();
        else add(this.running, meetingKey, -1);
        if (correct) return;
        this.addressFailures.recordFailure(addressKey);
        this.meetingFailures.recordFailure(meetingKey);
      },
    };
  }

  /** Waits for a running check of the meeting to settle; false when the queue is full or the wait too long. */
  private turn(meetingKey: string): Promise<boolean> {
    const queue = this.waiting.get(meetingKey) ?? [];
    if (queue.length >= this.limits.maxQueuedPerMeeting) return Promise.resolve(false);
    this.waiting.set(meetingKey, queue);
    return new Promise((resolve) => {
      const wake = (): void => {
        this.timers.clearTimeout(timer);
        if (queue.length === 0) this.waiting.delete(meetingKey);
        resolve(true);
      };
      const timer = this.timers.setTimeout(() => {
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0) this.waiting.delete(meetingKey);
        resolve(false);
      }, this.limits.maxQueueWaitMs);
      queue.push(wake);
    });
  }
}

function count(map: Map<string, number>, key: string): number {
  return map.get(key) ?? 0;
}

function add(map: Map<string, number>, key: string, delta: number): void {
  const next = count(map, key) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
