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
  /** Passcode checks (each a deliberately slow hash) running at once for one address, and for one meeting. */
  maxConcurrentPerAddress: number;
  maxConcurrentPerMeeting: number;
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

/**
 * Passcode guessing limits. A guess is counted when it starts, not when its slow
 * hash ends (reserve, then settle), so a thousand guesses sent at once are
 * counted like a thousand sent one by one; and only a few hashes run at once per
 * address and per meeting. The per-meeting limit protects against guesses from
 * many addresses, yet never locks out an address or device that got in before
 * (`known`): an attacker can lock out only newcomers, never the people already in.
 */
export class PasscodeGuard {
  private readonly addressFailures: AttemptLimiter;
  private readonly meetingFailures: AttemptLimiter;
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly limits: PasscodeLimits,
    now: () => number,
  ) {
    this.addressFailures = new AttemptLimiter(limits.maxFailuresPerAddress, limits.windowMs, now);
    this.meetingFailures = new AttemptLimiter(limits.maxFailuresPerMeeting, limits.windowMs, now);
  }

  /** Starts one check for `address` on `meeting`, or says why it may not start now. */
  reserve(address: string, meeting: string, known: boolean): PasscodeTicket | Throttled {
    const addressKey = `address:${address}`;
    const meetingKey = `meeting:${meeting}`;
    const addressBusy = this.count(addressKey);
    const meetingBusy = this.count(meetingKey);
    if (addressBusy >= this.limits.maxConcurrentPerAddress || (!known && meetingBusy >= this.limits.maxConcurrentPerMeeting)) {
      return { retryAfterSeconds: 1, message: 'Too many passcode checks at once; try again in a moment' };
    }
    // Checks still running count as failures until they settle: they may well be.
    if (this.addressFailures.count(addressKey) + addressBusy >= this.limits.maxFailuresPerAddress) {
      return { retryAfterSeconds: Math.max(1, this.addressFailures.retryAfterSeconds(addressKey)), message: `Too many wrong passcodes; try again in ${Math.max(1, this.addressFailures.retryAfterSeconds(addressKey))} s` };
    }
    if (!known && this.meetingFailures.count(meetingKey) + meetingBusy >= this.limits.maxFailuresPerMeeting) {
      const retry = Math.max(1, this.meetingFailures.retryAfterSeconds(meetingKey));
      return { retryAfterSeconds: retry, message: `Too many wrong passcodes for this meeting; try again in ${retry} s` };
    }
    this.add(addressKey, 1);
    this.add(meetingKey, 1);
    let settled = false;
    return {
      settle: (correct) => {
        if (settled) return;
        settled = true;
        this.add(addressKey, -1);
        this.add(meetingKey, -1);
        if (correct) return;
        this.addressFailures.recordFailure(addressKey);
        this.meetingFailures.recordFailure(meetingKey);
      },
    };
  }

  private count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  private add(key: string, delta: number): void {
    const next = this.count(key) + delta;
    if (next <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, next);
  }
}
