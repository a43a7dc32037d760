import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { SdkDataMessagePayloadSchema, type SdkDataMessagePayload } from '../../src-main/shared/signaling/frames.js';
import {
  DEFAULT_DATA_MESSAGE_LIMITS,
  DataMessageRelay,
  describeRejections,
  validateDataMessage,
  type DataMessageLimits,
} from '../../src-main/server/signaling/data-messages.js';
import { SlidingWindowLimit, TokenBucket } from '../../src-main/server/signaling/token-bucket.js';

const A = { participantId: 'attendee-a', externalUserId: 'alice' };
const B = { participantId: 'attendee-b', externalUserId: 'bob' };

function payload(topic: string, text = 'hi', lifetimeMs = 0, extra: { senderAttendeeId?: string; senderExternalUserId?: string; ingestTimeNs?: bigint } = {}): SdkDataMessagePayload {
  return create(SdkDataMessagePayloadSchema, { topic, data: new TextEncoder().encode(text), lifetimeMs, ...extra });
}

/** A relay on a clock the test moves by hand. */
function relayAt(limits: Partial<DataMessageLimits> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const relay = new DataMessageRelay({ ...DEFAULT_DATA_MESSAGE_LIMITS, ...limits }, () => clock.now);
  return { relay, clock };
}

describe('data message validation', () => {
  it('accepts the SDK limits exactly and rejects one past them, with a code and a precise message', () => {
    expect(validateDataMessage(payload('a'))).toBeUndefined();
    expect(validateDataMessage(payload('A-z_0-9'.padEnd(36, 'x')))).toBeUndefined();
    expect(validateDataMessage(payload('t', 'x'.repeat(2048)))).toBeUndefined();
    expect(validateDataMessage(payload('t', ''))).toBeUndefined();

    expect(validateDataMessage(payload(''))).toMatchObject({ code: 'INVALID_TOPIC' });
    expect(validateDataMessage(payload('x'.repeat(37)))).toMatchObject({ code: 'INVALID_TOPIC' });
    expect(validateDataMessage(payload('chat room'))).toMatchObject({ code: 'INVALID_TOPIC', message: expect.stringContaining('"chat room"') });
    expect(validateDataMessage(payload('chät'))).toMatchObject({ code: 'INVALID_TOPIC' });
    expect(validateDataMessage(payload('t', 'x'.repeat(2049)), 3)).toEqual({
      index: 3,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'data of 2049 bytes exceeds 2048 bytes',
    });
    // The SDK's protobufjs writes -1 into the uint32 field as 0xFFFFFFFF.
    expect(validateDataMessage(payload('t', 'x', 0xffff_ffff))).toMatchObject({ code: 'NEGATIVE_LIFETIME', message: 'lifetime_ms -1 must be at least 0' });
    expect(validateDataMessage(payload('t', 'x', 0x7fff_ffff))).toBeUndefined();
  });

  it('summarises rejections for the NOTIFICATION, capped at five', () => {
    const rejected = Array.from({ length: 7 }, (_, i) => validateDataMessage(payload(''), i)!);
    const text = describeRejections(rejected, 9);
    expect(text).toMatch(/^DATA_MESSAGE rejected 7 of 9 message\(s\): #0 INVALID_TOPIC/);
    expect(text).toContain('#4 INVALID_TOPIC');
    expect(text).not.toContain('#5 ');
    expect(text).toMatch(/and 2 more$/);
  });
});

describe('DataMessageRelay', () => {
  it('stamps the sender ids over whatever the client claimed, and ingest times that strictly increase', () => {
    const { relay, clock } = relayAt();
    const forged = payload('chat', 'x', 0, { senderAttendeeId: 'someone-else', senderExternalUserId: 'mallory', ingestTimeNs: 5n });
    const first = relay.ingest(A, [forged, payload('chat', 'y')]);
    expect(first.rejected).toEqual([]);
    expect(first.throttled).toEqual([]);
    expect(first.relayed.map((m) => [m.senderAttendeeId, m.senderExternalUserId])).toEqual([['attendee-a', 'alice'], ['attendee-a', 'alice']]);
    // Same millisecond, still strictly increasing.
    const [t1, t2] = first.relayed.map((m) => m.ingestTimeNs);
    expect(t1).toBe(BigInt(clock.now) * 1_000_000n);
    expect(t2! > t1!).toBe(true);
    // Even if the clock steps back.
    clock.now -= 5_000;
    const t3 = relay.ingest(B, [payload('chat')]).relayed[0]!.ingestTimeNs;
    expect(t3 > t2!).toBe(true);
  });

  it('relays the valid messages of a frame and reports the invalid ones', () => {
    const { relay } = relayAt();
    const out = relay.ingest(A, [payload('ok'), payload('bad topic'), payload('ok', 'x'.repeat(3000)), payload('ok2')]);
    expect(out.relayed.map((m) => m.topic)).toEqual(['ok', 'ok2']);
    expect(out.rejected.map((r) => [r.index, r.code])).toEqual([[1, 'INVALID_TOPIC'], [2, 'PAYLOAD_TOO_LARGE']]);
  });

  it('throttles with the meeting bucket: a burst of 200, then 100 a second', () => {
    const { relay, clock } = relayAt();
    const burst = relay.ingest(A, Array.from({ length: 400 }, (_, i) => payload('chat', String(i))));
    expect(burst.relayed).toHaveLength(200);
    expect(burst.throttled).toHaveLength(200);
    // Delivered in order: the first 200; the rest come back with ingest time 0 and the sender's own ids.
    expect(burst.relayed.map((m) => new TextDecoder().decode(m.data))).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect(burst.throttled.every((m) => m.ingestTimeNs === 0n && m.senderAttendeeId === 'attendee-a')).toBe(true);
    expect(new TextDecoder().decode(burst.throttled[0]!.data)).toBe('200');
    // The bucket is shared by the meeting: B is throttled too.
    expect(relay.ingest(B, [payload('chat')]).throttled).toHaveLength(1);
    clock.now += 500;
    const refill = relay.ingest(B, Array.from({ length: 80 }, () => payload('chat')));
    expect(refill.relayed).toHaveLength(50);
    expect(refill.throttled).toHaveLength(30);
  });

  it('enforces the hard per-attendee and per-meeting caps over a rolling second, even with a generous bucket', () => {
    const { relay, clock } = relayAt({ meetingRatePerSec: 10_000, meetingBurst: 10_000 });
    const a = relay.ingest(A, Array.from({ length: 250 }, () => payload('chat')));
    expect(a.relayed).toHaveLength(200);
    expect(a.throttled).toHaveLength(50);
    const b = relay.ingest(B, Array.from({ length: 250 }, () => payload('chat')));
    expect(b.relayed).toHaveLength(200);
    const c = relay.ingest({ participantId: 'attendee-c', externalUserId: 'carol' }, Array.from({ length: 250 }, () => payload('chat')));
    // 400 accepted so far this second: the meeting's 500 leaves room for 100.
    expect(c.relayed).toHaveLength(100);
    clock.now += 999;
    expect(relay.ingest(A, [payload('chat')]).throttled).toHaveLength(1);
    clock.now += 1;
    expect(relay.ingest(A, [payload('chat')]).relayed).toHaveLength(1);
  });

  it('buffers messages with a lifetime and replays them, in order, to a late joiner and not to their sender', () => {
    const { relay, clock } = relayAt();
    relay.ingest(A, [payload('chat', 'one', 60_000)]);
    relay.ingest(A, [payload('chat', 'no lifetime', 0)]);
    relay.ingest(B, [payload('chat', 'two', 1_000)]);
    relay.ingest(A, [payload('chat', 'three', 10 * 60_000)]);
    const texts = (ms: { data?: Uint8Array }[]) => ms.map((m) => new TextDecoder().decode(m.data));
    // Each call is a new client (a new audio_session_id), which has seen nothing.
    expect(texts(relay.replayFor('attendee-c', 1n))).toEqual(['one', 'two', 'three']);
    expect(texts(relay.replayFor('attendee-a', 1n))).toEqual(['two']);
    expect(relay.replayFor('attendee-c', 2n).every((m) => m.ingestTimeNs > 0n && m.senderExternalUserId)).toBe(true);
    clock.now += 1_000;
    expect(texts(relay.replayFor('attendee-c', 3n))).toEqual(['one', 'three']);
    clock.now += 59_000;
    expect(texts(relay.replayFor('attendee-c', 4n))).toEqual(['three']);
    // A lifetime longer than 5 minutes is kept for 5 minutes.
    clock.now += 4 * 60_000 - 1;
    expect(relay.buffered).toBe(1);
    clock.now += 1;
    expect(relay.buffered).toBe(0);
  });

  it('replays to a reconnecting client only what its earlier connection was not handed, and nothing twice', () => {
    const { relay } = relayAt();
    const texts = (ms: { data?: Uint8Array }[]) => ms.map((m) => new TextDecoder().decode(m.data));
    relay.ingest(A, [payload('chat', 'before B', 60_000)]);
    expect(texts(relay.replayFor('attendee-b', 7n))).toEqual(['before B']);
    const seen = relay.ingest(A, [payload('chat', 'seen', 60_000)]).relayed[0]!;
    relay.delivered('attendee-b', 7n, seen.ingestTimeNs);
    // B's connection was already closing: this one was not handed to it.
    relay.ingest(A, [payload('chat', 'missed', 60_000)]);
    expect(texts(relay.replayFor('attendee-b', 7n))).toEqual(['missed']);
    expect(relay.replayFor('attendee-b', 7n)).toEqual([]);
    // A different audio session is a different client (say a reloaded page): it gets everything.
    expect(texts(relay.replayFor('attendee-b', 8n))).toEqual(['before B', 'seen', 'missed']);
  });

  it('keeps at most bufferMaxMessages, dropping the oldest', () => {
    const { relay } = relayAt({ bufferMaxMessages: 3, meetingBurst: 1000 });
    relay.ingest(A, ['1', '2', '3', '4', '5'].map((t) => payload('chat', t, 60_000)));
    expect(relay.replayFor('x', 1n).map((m) => new TextDecoder().decode(m.data))).toEqual(['3', '4', '5']);
  });
});

describe('rate primitives', () => {
  it('TokenBucket refills continuously up to its capacity', () => {
    const bucket = new TokenBucket(10, 2);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([true, true, false]);
  });

  it('SlidingWindowLimit admits at most `limit` in any window', () => {
    const limit = new SlidingWindowLimit(2, 1000);
    limit.record(0);
    limit.record(500);
    expect(limit.allows(999)).toBe(false);
    expect(limit.allows(1000)).toBe(true);
    let admitted = 0;
    for (let t = 100; t < 5000; t++) if (limit.allows(t * 10)) { limit.record(t * 10); admitted++; }
    expect(admitted).toBe(98);
    expect(limit.allows(50_000)).toBe(true);
  });
});
