import { describe, expect, it } from 'vitest';
import { DEFAULT_MEDIA_SETTINGS } from '../../src-main/server/defaults.js';
import { DownlinkProber } from '../../src-main/server/media/bwe/downlink-prober.js';

const SETTINGS = { ...DEFAULT_MEDIA_SETTINGS.video.prober, durationMs: 1500, reportDelayMs: 1000, firstIntervalMs: 2000, maxIntervalMs: 6000, maxLossFraction: 0.02 };

describe('DownlinkProber (bwe/downlink-prober.ts)', () => {
  it('waits its first interval, pads for its duration, and asks for reports from a second in', () => {
    let now = 0;
    const prober = new DownlinkProber(SETTINGS, () => now);
    expect(prober.start(1_800_000, 700_000)).toBe(false);
    now = 2000;
    expect(prober.start(1_800_000, 0)).toBe(false);
    expect(prober.start(1_800_000, 700_000)).toBe(true);
    expect(prober.start(1_800_000, 700_000)).toBe(false);
    expect(prober.paddingBps).toBe(700_000);
    expect(prober.reportsFromMs).toBe(3000);
    expect(prober.due).toBe(false);
    now = 3500;
    expect(prober.paddingBps).toBe(0);
    expect(prober.due).toBe(true);
    expect(prober.overdue).toBe(false);
    now = 6000;
    expect(prober.overdue).toBe(true);
  });

  it('after a success may probe again at once; a failure then waits the first interval, each further one twice as long up to the longest; no report learns nothing', () => {
    let now = 2000;
    const prober = new DownlinkProber(SETTINGS, () => now);
    prober.start(1, 1);
    now += 1500;
    expect(prober.finish(0.01)).toBe('succeeded');
    expect(prober.start(1, 1)).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      now += 1500;
      expect(prober.finish(0.3)).toBe('failed');
      const failedAt = now;
      while (!prober.start(1, 1)) now += 100;
      waits.push(now - failedAt);
    }
    expect(waits).toEqual([2000, 4000, 6000, 6000]);
    now += 1500;
    expect(prober.finish(undefined)).toBe('inconclusive');
    expect(prober.active).toBe(false);
  });

  it('stops its padding at once when the link queues it, and fails whatever the loss; the next asks for less', () => {
    let now = 0;
    const prober = new DownlinkProber({ ...SETTINGS, maxQueueDelayMs: 80 }, () => now);
    now = 2000;
    expect(prober.start(1_800_000, 700_000)).toBe(true);
    now += 200;
    // No round trip yet, or one within the bound: it goes on.
    expect(prober.abandonIfQueued(undefined)).toBe(false);
    expect(prober.abandonIfQueued(60)).toBe(false);
    expect(prober.paddingBps).toBe(700_000);
    // 120 ms of queue: the padding stops now, and it is due for its verdict.
    expect(prober.abandonIfQueued(120)).toBe(true);
    expect(prober.abandoned).toBe(true);
    expect(prober.paddingBps).toBe(0);
    expect(prober.due).toBe(true);
    expect(prober.abandonIfQueued(200)).toBe(false);
    expect(prober.finish(0)).toBe('failed');
    expect(prober.lastFailed).toBe(true);
    // Judged afterwards on a queue over the bound, without loss: failed too.
    while (!prober.start(1, 1)) now += 100;
    now += 600;
    expect(prober.finish(0, 95)).toBe('failed');
    while (!prober.start(1, 1)) now += 100;
    now += 600;
    expect(prober.finish(0, 40)).toBe('succeeded');
    expect(prober.lastFailed).toBe(false);
  });
});
