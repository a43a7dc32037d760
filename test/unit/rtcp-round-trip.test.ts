import { describe, expect, it } from 'vitest';
import { compactNtp, NtpClock } from '../../src-main/server/media/rtp/ntp.js';
import { parseRtcp, SENDER_REPORT_BYTES, writeSenderReport } from '../../src-main/server/media/rtp/rtcp.js';

/** Sender reports out, round trips back (RFC 3550 6.4): what the downlink's delay signal is made of. */

/** A receiver report about `ssrc` echoing `lastSr`, held `dlsrUnits` (1/65536 s). */
function receiverReport(ssrc: number, lastSr: number, dlsrUnits: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(1, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt32BE(lastSr, 24);
  b.writeUInt32BE(dlsrUnits, 28);
  return b;
}

describe('sender reports and round trips', () => {
  it('writes a sender report in place that parses back to what was written', () => {
    const out = Buffer.alloc(64, 0xff);
    const length = writeSenderReport(out, 0xdeadbeef, { msw: 3_900_000_000, lsw: 123_456 }, 90_000, 42, 4200);
    expect(length).toBe(SENDER_REPORT_BYTES);
    expect(parseRtcp(out.subarray(0, length))).toEqual([
      { kind: 'sender-report', ssrc: 0xdeadbeef, ntpMsw: 3_900_000_000, ntpLsw: 123_456, rtpTimestamp: 90_000, packetCount: 42, octetCount: 4200 },
    ]);
  });

  it('tells the round trip a receiver report echoes: arrival less the sender report\'s time less how long it was held', () => {
    // Wall clock 2026-11-30 at monotonic 0: NTP seconds past 2^32 / 2, so the compact form wraps its seconds.
    const clock = new NtpClock(Date.UTC(2026, 10, 30, 12));
    const ntp = { msw: 0, lsw: 0 };
    // NTP counts seconds from 1900, and the fraction in 1/2^32 s.
    expect(clock.write(500, ntp)).toEqual({ msw: Date.UTC(2026, 10, 30, 12) / 1000 + 2_208_988_800, lsw: 2 ** 31 });
    clock.write(1000.5, ntp);
    const lastSr = compactNtp(ntp.msw, ntp.lsw);
    expect(lastSr).toBe((((ntp.msw & 0xffff) << 16) | 32) >>> 0);
    const [report] = parseRtcp(receiverReport(7, lastSr, Math.round(0.05 * 65536)));
    expect(report).toMatchObject({ kind: 'receiver-report', reports: [{ ssrc: 7, lastSr, delaySinceLastSr: 3277 }] });
    const block = (report as Extract<ReturnType<typeof parseRtcp>[number], { kind: 'receiver-report' }>).reports[0]!;
    // Sent at 1000.5 ms, held 50 ms, back at 1250.5 ms: 200 ms there and back.
    expect(clock.roundTripMs(1250.5, block.lastSr, block.delaySinceLastSr)).toBeCloseTo(200, 0);
    // No sender report echoed yet: nothing to tell.
    expect(clock.roundTripMs(1250.5, 0, 0)).toBeUndefined();
    // Held a hair longer than the round trip (rounding): zero, not four billion units.
    expect(clock.roundTripMs(1050.5, block.lastSr, block.delaySinceLastSr + 2)).toBe(0);
    // An echo older than 10 s is no round trip of this link's now.
    expect(clock.roundTripMs(20_000, block.lastSr, block.delaySinceLastSr)).toBeUndefined();
  });
});
