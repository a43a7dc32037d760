import { describe, expect, it } from 'vitest';
import { BitrateMeter } from '../../src-main/server/media/bwe/bitrate-meter.js';
import { DownlinkEstimate } from '../../src-main/server/media/bwe/downlink-estimate.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** The per-subscriber downlink estimate and the per-stream bitrate meter, on hand-moved time. */

const SETTINGS = { rembStaleMs: 5000, lossStaleMs: 5000, lossCutFraction: 0.1 };

describe('DownlinkEstimate', () => {
  it('is unknown (0) until a REMB arrives, then follows the latest REMB until it goes stale', () => {
    const clock = new ClockFixture();
    const e = new DownlinkEstimate(SETTINGS, clock.now);
    expect(e.bps).toBe(0);
    e.onRemb(2_500_000);
    expect(e.bps).toBe(2_500_000);
    clock.advance(1000);
    e.onRemb(3_000_000);
    expect(e.bps).toBe(3_000_000);
    clock.advance(5000);
    expect(e.bps).toBe(3_000_000);
    clock.advance(1);
    expect(e.bps).toBe(0);
    e.onRemb(Number.NaN);
    e.onRemb(-5);
    expect(e.bps).toBe(0);
  });

  it('ignores small loss, cuts the estimate by half the worst recent loss above 10%, and forgets old reports', () => {
    const clock = new ClockFixture();
    const e = new DownlinkEstimate(SETTINGS, clock.now);
    e.onRemb(1_000_000);
    e.onReceiverReport(11, 20); // 7.8%: noise
    expect(e.lossFraction).toBeCloseTo(20 / 256);
    expect(e.bps).toBe(1_000_000);
    e.onReceiverReport(12, 64); // 25% on another stream we send it
    expect(e.lossFraction).toBe(0.25);
    expect(e.bps).toBe(875_000);
    e.onReceiverReport(12, 0);
    expect(e.bps).toBe(1_000_000);
    e.onReceiverReport(12, 128);
    clock.advance(4000);
    e.onRemb(1_000_000);
    expect(e.bps).toBe(750_000);
    clock.advance(1001);
    expect(e.lossFraction).toBe(0);
    expect(e.bps).toBe(1_000_000);
    e.onReceiverReport(13, 999);
    expect(e.lossFraction).toBeCloseTo(255 / 256);
  });
});

describe('BitrateMeter', () => {
  it('measures a steady stream over its window, from the first packet on', () => {
    const m = new BitrateMeter(2000, 100);
    expect(m.bps(0)).toBe(0);
    // 1200-byte packets every 10 ms: 960 kbps.
    let t = 0;
    for (; t < 500; t += 10) m.add(1200, t);
    expect(m.bps(t)).toBeGreaterThan(900_000);
    expect(m.bps(t)).toBeLessThan(1_000_000);
    for (; t < 10_000; t += 10) m.add(1200, t);
    expect(m.bps(t)).toBeGreaterThan(940_000);
    expect(m.bps(t)).toBeLessThanOrEqual(960_000);
  });

  it('follows a rate change within a window, and reads 0 after a silence longer than the window', () => {
    const m = new BitrateMeter(2000, 100);
    let t = 0;
    for (; t < 5000; t += 10) m.add(1250, t); // 1 Mbps
    for (; t < 8000; t += 10) m.add(250, t); // 200 kbps
    expect(m.bps(t)).toBeGreaterThan(190_000);
    expect(m.bps(t)).toBeLessThan(215_000);
    expect(m.bps(t + 2100)).toBe(0);
    // Long silences, then traffic again: only the new traffic counts.
    t += 60_000;
    for (const end = t + 2000; t < end; t += 10) m.add(1250, t);
    expect(m.bps(t)).toBeGreaterThan(950_000);
    expect(m.bps(t)).toBeLessThan(1_050_000);
  });
});

class ClockFixture {
  private readonly clock = new ManualClock();
  readonly now = (): number => this.clock.monotonic();
  advance(ms: number): void {
    this.clock.advance(ms);
  }
}
