/**
 * NTP time as RTCP carries it (RFC 3550 4), and the round trip a receiver report tells.
 *
 * A sender report stamps the 64-bit NTP time it left at; the receiver's next report block for
 * that SSRC echoes its middle 32 bits (LSR) with how long it held it (DLSR, 1/65536 s). The
 * sender's own compact NTP time at arrival minus both is the round trip, queueing included:
 * the delay signal a router's queue builds long before it drops anything.
 */

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_POW_32 = 0x1_0000_0000;

/** An NTP timestamp in two 32-bit words (written into a reused object: the hot path allocates nothing). */
export interface NtpTime {
  msw: number;
  lsw: number;
}

/**
 * A clock in NTP terms over a monotonic millisecond clock: `epochMs` is the Unix time at which
 * the monotonic clock read 0 (taken once, so NTP time never jumps with the wall clock).
 */
export class NtpClock {
  /** Scratch for `compact` (nothing allocated per call). */
  private readonly scratch: NtpTime = { msw: 0, lsw: 0 };

  constructor(private readonly epochMs: number) {}

  /** Fills `out` with the NTP time of monotonic `ms`. */
  write(ms: number, out: NtpTime): NtpTime {
    const unixMs = this.epochMs + ms;
    const seconds = Math.floor(unixMs / 1000);
    out.msw = (seconds + NTP_UNIX_OFFSET_S) >>> 0;
    out.lsw = Math.floor(((unixMs - seconds * 1000) / 1000) * TWO_POW_32) >>> 0;
    return out;
  }

  /** The middle 32 bits of the NTP time of monotonic `ms` (units of 1/65536 s, wrapping). */
  compact(ms: number): number {
    const t = this.write(ms, this.scratch);
    return compactNtp(t.msw, t.lsw);
  }

  /**
   * The round trip in ms a report block tells when it arrives at monotonic `ms`: undefined when it
   * echoes no sender report (LSR 0) or the result is not a plausible round trip.
   */
  roundTripMs(ms: number, lastSr: number, delaySinceLastSr: number): number | undefined {
    if (lastSr === 0) return undefined;
    const units = (this.compact(ms) - lastSr - delaySinceLastSr) >>> 0;
    // More than 10 s is a wrapped negative (clock skew inside a millisecond) or a stale echo.
    if (units > 10 * 65536) return units > 0xffff_0000 ? 0 : undefined;
    return (units * 1000) / 65536;
  }
}

/** Compact NTP (middle 32 bits) of a full NTP time, as a report block's LSR carries it. */
export function compactNtp(msw: number, lsw: number): number {
  return (((msw & 0xffff) << 16) | (lsw >>> 16)) >>> 0;
}
