import { create, fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { mediaPlacementFor } from '../../src-main/server/control-plane/media-placement.js';
import { DEFAULT_LIFECYCLE_TIMEOUTS } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { MeetingService } from '../../src-main/server/control-plane/meeting-service.js';
import { InMemoryMeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { DEFAULT_SIGNALING_LIMITS, mediaSettings } from '../../src-main/server/defaults.js';
import { createLogger } from '../../src-main/server/logger.js';
import { MeetingMedia } from '../../src-main/server/media/meeting-media.js';
import { FrameRateLimiter } from '../../src-main/server/signaling/frame-limits.js';
import { MeetingRoom } from '../../src-main/server/signaling/meeting-room.js';
import type { SessionPort } from '../../src-main/server/signaling/participant.js';
import { SdkJoinFrameSchema, SdkSignalFrame_Type, SdkSignalFrameSchema, type SdkSignalFrame } from '../../src-main/shared/signaling/frames.js';
import { ManualClock } from '../helpers/manual-clock.js';

const logger = createLogger({ level: 'error', write: () => undefined });

describe('FrameRateLimiter', () => {
  it('closes past a frame type\'s cap once its burst is spent, and past the cap over all types', () => {
    // 3 a second with 2 seconds of burst: 6 at once, then 3 a second.
    const limiter = new FrameRateLimiter({ ...DEFAULT_SIGNALING_LIMITS.framesPerSecond, audioControl: 3, total: 5 }, 2);
    expect([0, 1, 2, 3, 4, 5].map((t) => limiter.admit('audioControl', t))).toEqual(Array(6).fill(undefined));
    expect(limiter.admit('audioControl', 6)).toBe('Too many AUDIO_CONTROL frames: at most 3 a second');
    // A refused frame is not counted; the bucket refills at the cap.
    expect([1006, 1007, 1008].map((t) => limiter.admit('audioControl', t))).toEqual([undefined, undefined, undefined]);
    expect(limiter.admit('audioControl', 1009)).toBe('Too many AUDIO_CONTROL frames: at most 3 a second');
    // All types together: 10 at once (5 a second, 2 seconds), 4 taken by audioControl's refill above and 6 before.
    const fresh = new FrameRateLimiter({ ...DEFAULT_SIGNALING_LIMITS.framesPerSecond, total: 5 }, 2);
    for (let i = 0; i < 10; i++) expect(fresh.admit(i % 2 ? 'pause' : 'resume', i)).toBeUndefined();
    expect(fresh.admit('pause', 11)).toBe('Too many signaling frames: at most 5 a second');
  });

  it('a stalled client\'s backlog arriving at once is admitted with the defaults; a flood is not', () => {
    const limits = DEFAULT_SIGNALING_LIMITS;
    const client = new FrameRateLimiter(limits.framesPerSecond, limits.burstSeconds);
    // The SDK's cadence: a CLIENT_METRIC a second, a ping every 10 s.
    for (let t = 0; t < 5_000; t += 1_000) expect(client.admit('clientMetric', t)).toBeUndefined();
    // Its network freezes for 12 s; then what it queued arrives within a few milliseconds (a rolling-second cap of 10 closed it here).
    const backlog = [...Array<'clientMetric'>(12).fill('clientMetric'), 'pingPong' as const];
    expect(backlog.map((kind, i) => client.admit(kind, 17_000 + i / 4))).toEqual(Array(backlog.length).fill(undefined));
    // A thousand mute toggles at once: closed long before the end.
    const flooder = new FrameRateLimiter(limits.framesPerSecond, limits.burstSeconds);
    const verdicts = Array.from({ length: 1_000 }, (_, i) => flooder.admit('audioControl', i / 10));
    const first = verdicts.findIndex((v) => v !== undefined);
    expect(first).toBe(limits.framesPerSecond.audioControl * limits.burstSeconds);
    expect(verdicts[first]).toBe('Too many AUDIO_CONTROL frames: at most 30 a second');
  });
});

class FakeSession implements SessionPort {
  static next = 1;
  readonly id = `session-${FakeSession.next++}`;
  readonly frames: SdkSignalFrame[] = [];
  isOpen = true;
  send(frame: Uint8Array): boolean {
    this.frames.push(fromBinary(SdkSignalFrameSchema, frame.subarray(1)));
    return true;
  }
  close(): void {
    this.isOpen = false;
  }
  presence(): { audioStreamId: number; muted: boolean }[][] {
    return this.frames.filter((f) => f.type === SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO).map((f) => f.audioStreamIdInfo!.streams.map((s) => ({ audioStreamId: s.audioStreamId, muted: s.muted })));
  }
}

describe('MeetingRoom presence', () => {
  it('coalesces mute changes: a hundred toggles cost one broadcast at once and one per interval with each latest state', async () => {
    const clock = new ManualClock();
    const service = new MeetingService({
      store: new InMemoryMeetingStore(), clock, logger, placementFor: (id) => mediaPlacementFor('http://127.0.0.1:1', id), maxActiveMeetings: 5, lifecycle: DEFAULT_LIFECYCLE_TIMEOUTS,
    });
    const { meeting } = await service.createMeeting({ MediaRegion: 'us-east-1', ExternalMeetingId: 'presence' });
    const [a, b] = await Promise.all(['a', 'b'].map((u) => service.createAttendee(meeting.MeetingId, { ExternalUserId: u })));
    const media = new MeetingMedia({ id: meeting.MeetingId, ice: {}, logger, clock, settings: mediaSettings(), startTicker: () => ({ stop: () => undefined }) });
    const room = new MeetingRoom(meeting, { service, logger, media, publishCaps: { cameraMaxKbps: 1500, contentMaxKbps: 2500 }, clock, presenceIntervalMs: 250 });
    const sa = new FakeSession();
    const sb = new FakeSession();
    const pa = await room.join(sa, { attendee: a!, participantId: a!.AttendeeId, content: false }, create(SdkJoinFrameSchema, { audioSessionId: 1n }));
    await room.join(sb, { attendee: b!, participantId: b!.AttendeeId, content: false }, create(SdkJoinFrameSchema, { audioSessionId: 2n }));
    const before = sb.presence().length;

    for (let i = 0; i < 100; i++) room.setMuted(pa, i % 2 === 0);
    // The first change goes out at once; the rest wait for the interval.
    expect(sb.presence().slice(before)).toEqual([[{ audioStreamId: pa.audioStreamId, muted: true }]]);
    clock.advance(249);
    expect(sb.presence().length - before).toBe(1);
    clock.advance(1);
    // Then the latest state (unmuted after an even number of toggles), once.
    expect(sb.presence().slice(before + 1)).toEqual([[{ audioStreamId: pa.audioStreamId, muted: false }]]);
    clock.advance(10_000);
    expect(sb.presence().length - before).toBe(2);
    // A change after a quiet interval goes out at once again.
    room.setMuted(pa, true);
    expect(sb.presence().length - before).toBe(3);
    room.close();
    await service.close();
  });
});
