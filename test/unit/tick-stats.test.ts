import { describe, expect, it } from 'vitest';
import { TickStats } from '../../src-main/server/media/audio/tick-stats.js';

describe('mixer tick statistics', () => {
  it('reports percentiles, per-tick codec work and late ticks, then starts a new period', () => {
    const stats = new TickStats();
    for (let i = 1; i <= 100; i++) stats.record(i / 10, { decodes: 4, encodes: i % 2 ? 5 : 1, speakers: [] }, i === 50 ? 35 : 2);
    const first = stats.take(250);
    expect(first).toMatchObject({ ticks: 100, tickMsP50: 5.1, tickMsP99: 10, tickMsMax: 10, decodesPerTick: 4, encodesPerTick: 3, lateTicks: 1, maxLateMs: 35, members: 250 });
    const second = stats.take(250);
    expect(second).toMatchObject({ ticks: 0, tickMsP50: 0, decodesPerTick: 0, lateTicks: 0 });
  });
});
