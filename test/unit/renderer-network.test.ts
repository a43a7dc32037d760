import { describe, expect, it } from 'vitest';
import {
  assessConnection,
  classify,
  lossPercent,
  medianRtt,
  QualityTracker,
  sampleFromStats,
  UNREACHABLE_AFTER_MS,
  type StatsSample,
} from '../../src-renderer/src/lib/connection-quality';
import { FrameWatch, FROZEN_AFTER_MS, personConnection, tileCondition, type TileSignals } from '../../src-renderer/src/lib/tile-health';

/** The judgements behind "Good connection", "Reconnecting…", "cannot reach the server" and each tile's state. */

const sample = (extra: Partial<StatsSample> = {}): StatsSample => ({ at: 0, rttMs: 5, audioPacketsReceived: undefined, audioPacketsLost: undefined, jitterMs: 10, videoLimitedByBandwidth: false, ...extra });

describe('connection quality', () => {
  it('reads round trip, audio packets and jitter from a getStats report (selected pair first)', () => {
    const stats = [
      { type: 'transport', selectedCandidatePairId: 'p2' },
      { type: 'candidate-pair', id: 'p1', nominated: true, state: 'succeeded', currentRoundTripTime: 0.9 },
      { type: 'candidate-pair', id: 'p2', nominated: true, state: 'succeeded', currentRoundTripTime: 0.012 },
      { type: 'inbound-rtp', kind: 'audio', packetsReceived: 500, packetsLost: 7, jitter: 0.021 },
      { type: 'inbound-rtp', kind: 'video', packetsReceived: 9000, packetsLost: 300 },
      { type: 'outbound-rtp', kind: 'video', qualityLimitationReason: 'bandwidth' },
    ];
    const s = sampleFromStats({ forEach: (cb) => stats.forEach((x) => cb(x)) }, 42);
    expect(s).toEqual({ at: 42, rttMs: 12, audioPacketsReceived: 500, audioPacketsLost: 7, jitterMs: 21, videoLimitedByBandwidth: true });
  });

  it('computes loss over the last seconds, and says nothing from a handful of packets (DTX silence)', () => {
    const at = (t: number, received: number, lost: number) => sample({ at: t, audioPacketsReceived: received, audioPacketsLost: lost });
    expect(lossPercent([at(0, 100, 0), at(1000, 150, 0)], 1000)).toBe(0);
    expect(lossPercent([at(0, 100, 0), at(1000, 190, 10)], 1000)).toBe(10);
    // DTX: 3 packets a second; one lost is not 25 % loss worth an alarm.
    expect(lossPercent([at(0, 100, 0), at(1000, 103, 1)], 1000)).toBeUndefined();
    // Older than the window does not count.
    expect(lossPercent([at(0, 0, 0), at(6000, 100, 50), at(7000, 150, 50)], 7000)).toBe(0);
  });

  it('classifies loss first, then delay and jitter, with the median round trip deciding, not one spike', () => {
    expect(classify(sample(), 0)).toBe('good');
    expect(classify(sample(), 4)).toBe('fair');
    expect(classify(sample(), 12)).toBe('poor');
    expect(classify(sample({ rttMs: 1200 }), 0)).toBe('fair');
    expect(classify(sample({ jitterMs: 300 }), 0)).toBe('poor');
    // Bandwidth-limited encoding alone is not judged (no congestion feedback from this server).
    expect(classify(sample({ videoLimitedByBandwidth: true }), 0)).toBe('good');
    expect(medianRtt([sample({ rttMs: 5 }), sample({ rttMs: 2000 }), sample({ rttMs: 7 })])).toBe(7);
    expect(medianRtt([sample({ rttMs: undefined })])).toBeUndefined();
  });

  it('has hysteresis: two bad seconds to get worse, five good ones to get better, and no flicker on a lone spike', () => {
    const q = new QualityTracker(2, 5);
    expect(q.push('poor')).toBe('good');
    expect(q.push('good')).toBe('good');
    expect(q.push('poor')).toBe('good');
    // A run of fair then poor lands on the mildest level the run supports.
    expect(q.push('fair')).toBe('fair');
    expect(q.push('poor')).toBe('fair');
    expect(q.push('poor')).toBe('poor');
    for (let i = 0; i < 4; i++) expect(q.push('good')).toBe('poor');
    expect(q.push('good')).toBe('good');
    const labels = ['good', 'poor', 'good', 'good', 'poor', 'good', 'good', 'good', 'poor', 'good'].map((l) => q.push(l as 'good' | 'poor'));
    expect(new Set(labels)).toEqual(new Set(['good']));
  });
});

describe('reconnecting and unreachable', () => {
  const base = { now: 100_000, sdkReconnecting: false, signalingDropped: false, lastMediaAt: 99_800, lastServerContactAt: 99_000, lastFailure: undefined, online: true };

  it('says reconnecting when the SDK does, when audio stops for 1.5 s, or when the server is silent for 5 s and no audio arrives', () => {
    expect(assessConnection(base)).toEqual({ reconnecting: false, unreachable: undefined, silentSeconds: 1 });
    expect(assessConnection({ ...base, sdkReconnecting: true })).toMatchObject({ reconnecting: true, cause: 'sdk' });
    expect(assessConnection({ ...base, lastMediaAt: 98_400 })).toMatchObject({ reconnecting: true, cause: 'media' });
    expect(assessConnection({ ...base, lastMediaAt: 98_600 }).reconnecting).toBe(false);
    // Before any audio arrived there is nothing to stall.
    expect(assessConnection({ ...base, lastMediaAt: undefined }).reconnecting).toBe(false);
    expect(assessConnection({ ...base, lastMediaAt: undefined, lastServerContactAt: 95_000 })).toMatchObject({ reconnecting: true, cause: 'server' });
    expect(assessConnection({ ...base, lastMediaAt: 90_000, lastServerContactAt: 95_000 })).toMatchObject({ reconnecting: true, cause: 'media' });
    expect(assessConnection({ ...base, online: false })).toMatchObject({ reconnecting: true, cause: 'offline' });
  });

  it('says reconnecting the moment the signaling socket drops, before the SDK does and while audio still arrives', () => {
    expect(assessConnection({ ...base, signalingDropped: true })).toMatchObject({ reconnecting: true, cause: 'signaling' });
    expect(assessConnection({ ...base, signalingDropped: true, sdkReconnecting: true }).cause).toBe('signaling');
    expect(assessConnection({ ...base, signalingDropped: true, online: false }).cause).toBe('offline');
  });

  it('a server slow to answer while audio still arrives is a poor connection, not a lost one (a congested link starves the requests first)', () => {
    const slow = assessConnection({ ...base, lastServerContactAt: 95_000 });
    expect(slow).toMatchObject({ reconnecting: false, slowServer: true, unreachable: undefined });
    expect(slow.cause).toBeUndefined();
    expect(assessConnection({ ...base, lastServerContactAt: 95_001 }).slowServer).toBeUndefined();
    // Even past the unreachable mark: audio from the server means it is reachable.
    expect(assessConnection({ ...base, lastServerContactAt: base.now - UNREACHABLE_AFTER_MS }).unreachable).toBeUndefined();
  });

  it('explains an unreachable server after 10 s, as refused (stopped), unanswered (network) or offline', () => {
    const silent = { ...base, sdkReconnecting: true, lastServerContactAt: base.now - UNREACHABLE_AFTER_MS };
    expect(assessConnection({ ...silent, lastFailure: { kind: 'refused' } }).unreachable).toBe('refused');
    expect(assessConnection({ ...silent, lastFailure: { kind: 'timeout' } }).unreachable).toBe('timeout');
    expect(assessConnection({ ...silent, online: false }).unreachable).toBe('offline');
    expect(assessConnection({ ...silent, lastServerContactAt: base.now - UNREACHABLE_AFTER_MS + 1 }).unreachable).toBeUndefined();
  });
});

describe('tile and person state', () => {
  it('a video is frozen once its frame counter stops for 1.5 s, not before its first frame', () => {
    const w = new FrameWatch();
    expect(w.update(0, 0)).toBe(false);
    expect(w.update(0, 10_000)).toBe(false);
    expect(w.update(5, 10_100)).toBe(false);
    expect(w.update(5, 10_100 + FROZEN_AFTER_MS - 1)).toBe(false);
    expect(w.update(5, 10_100 + FROZEN_AFTER_MS)).toBe(true);
    expect(w.update(6, 20_000)).toBe(false);
  });

  it('ranks the signals: reconnecting, paused, frozen, poor, live', () => {
    const s: TileSignals = { hasVideo: true, dropped: false, verdict: 'good', paused: false, poorConnection: false, frozen: false, signal: 1 };
    expect(tileCondition(s)).toBe('live');
    expect(tileCondition({ ...s, hasVideo: false })).toBe('no-video');
    expect(tileCondition({ ...s, poorConnection: true })).toBe('poor');
    expect(tileCondition({ ...s, verdict: 'poor' })).toBe('poor');
    expect(tileCondition({ ...s, frozen: true, verdict: 'poor' })).toBe('frozen');
    expect(tileCondition({ ...s, paused: true, frozen: true })).toBe('paused');
    expect(tileCondition({ ...s, verdict: 'lost', paused: true })).toBe('reconnecting');
    expect(tileCondition({ ...s, dropped: true })).toBe('reconnecting');
    expect(tileCondition({ ...s, hasVideo: false, signal: 0.2 })).toBe('poor');
    expect(personConnection({ dropped: false, verdict: 'good', frozen: true, poorConnection: false, signal: 1 })).toBe('fair');
    expect(personConnection({ dropped: false, verdict: 'lost', frozen: false, poorConnection: false, signal: 1 })).toBe('reconnecting');
    expect(personConnection({ dropped: false, verdict: 'fair', frozen: false, poorConnection: false, signal: 1 })).toBe('fair');
  });
});
