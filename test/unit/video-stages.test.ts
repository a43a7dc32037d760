import { describe, expect, it } from 'vitest';
import { buildRtp, parseRtp, readHeaderExtensions } from '../../src-main/server/media/rtp/rtp.js';
import { KeyframeRequester } from '../../src-main/server/media/video/keyframe-requester.js';
import { NackGenerator } from '../../src-main/server/media/video/nack-generator.js';
import { RetransmissionBuffer } from '../../src-main/server/media/video/retransmission-buffer.js';
import { SequenceRewriter } from '../../src-main/server/media/video/sequence-rewriter.js';
import { VideoPacket } from '../../src-main/server/media/video/video-packet.js';
import { VideoSubscription } from '../../src-main/server/media/video/video-subscription.js';

/** The forwarding stages, one at a time, without sockets or timers. */

const vp8 = (key: boolean, seq: number, ts = seq * 3000, extensions: { id: number; data: Buffer }[] = []): Buffer =>
  buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc: 1111, marker: true, payload: Buffer.from([0x10, key ? 0x00 : 0x01, 0xaa, seq & 0xff]), extensions });

const NACK = { giveUpMs: 1000, retryMinMs: 20, retryMaxMs: 250, maxGap: 500, capacity: 8 };

describe('RetransmissionBuffer', () => {
  it('keeps each packet by reference for the window, and loses it to a later packet in its slot', () => {
    const buffer = new RetransmissionBuffer(20, 1000);
    expect(buffer.capacity).toBe(32);
    const a = vp8(false, 65530);
    buffer.store(65530, a, 0);
    expect(buffer.get(65530, 999)).toBe(a);
    expect(buffer.get(65530, 1001)).toBeUndefined();
    expect(buffer.get(65531, 10)).toBeUndefined();
    // 65530 + 32 wraps to 26: same slot, different number.
    buffer.store(26, vp8(false, 26), 10);
    expect(buffer.get(65530, 10)).toBeUndefined();
    expect(parseRtp(buffer.get(26, 10)!)!.sequenceNumber).toBe(26);
  });
});

describe('NackGenerator', () => {
  it('asks for a gap at the next tick, again after a round trip, and learns the round trip from what comes back', () => {
    const nacks = new NackGenerator(NACK);
    const sent: number[][] = [];
    const send = (seqs: readonly number[]) => sent.push([...seqs]);
    nacks.onPacket(65534, 0);
    nacks.onPacket(1, 5); // 65535 and 0 missing, across the wrap
    expect(nacks.tick(10, send)).toBe(false);
    expect(sent).toEqual([[65535, 0]]);
    nacks.tick(20, send); // within the (initial, 100 ms) round trip: nothing
    expect(sent).toHaveLength(1);
    nacks.onPacket(65535, 50); // came back 40 ms after the NACK
    expect(nacks.roundTripMs).toBeCloseTo(0.875 * 100 + 0.125 * 40);
    nacks.tick(200, send);
    expect(sent).toEqual([[65535, 0], [0]]);
    expect(nacks.stats).toMatchObject({ missing: 2, recovered: 1, nacksSent: 2, givenUp: 0 });
  });

  it('gives up after giveUpMs (the caller then asks for a keyframe), and treats a huge jump as a restart', () => {
    const nacks = new NackGenerator(NACK);
    const send = () => undefined;
    nacks.onPacket(10, 0);
    nacks.onPacket(12, 0);
    expect(nacks.tick(999, send)).toBe(false);
    expect(nacks.tick(1000, send)).toBe(true);
    expect(nacks.stats.givenUp).toBe(1);
    expect(nacks.tick(1100, send)).toBe(false);
    expect(nacks.onPacket(12 + 501, 1100)).toBe(false);
    expect(nacks.onPacket(12 + 502, 1100)).toBe(true);
  });

  it('holds at most `capacity` missing packets; the oldest make way', () => {
    const nacks = new NackGenerator(NACK);
    nacks.onPacket(0, 0);
    nacks.onPacket(11, 0); // 10 missing, capacity 8
    const sent: number[][] = [];
    nacks.tick(1, (seqs) => sent.push([...seqs]));
    expect(sent).toEqual([[3, 4, 5, 6, 7, 8, 9, 10]]);
    expect(nacks.stats.givenUp).toBe(2);
  });
});

describe('KeyframeRequester', () => {
  it('merges requests into at most one PLI per 500 ms, and asks again when no keyframe came within 1 s', () => {
    let plis = 0;
    const requester = new KeyframeRequester({ minIntervalMs: 500, retryMs: 1000 }, () => plis++);
    for (let t = 0; t < 400; t += 20) requester.request(t);
    expect(plis).toBe(1);
    requester.tick(900);
    expect(plis).toBe(1);
    requester.tick(1000);
    expect(plis).toBe(2);
    requester.keyframeArrived();
    requester.tick(3000);
    expect(plis).toBe(2);
    // A new need right after a PLI waits for the interval, then goes out on a tick.
    requester.request(1100);
    expect(plis).toBe(2);
    requester.tick(1499);
    expect(plis).toBe(2);
    requester.tick(1500);
    expect(plis).toBe(3);
    expect(requester.waiting).toBe(true);
  });
});

describe('SequenceRewriter', () => {
  it('keeps numbering continuous across sources and maps NACKed numbers back', () => {
    const rewriter = new SequenceRewriter(() => 0.5);
    rewriter.resync();
    expect(rewriter.rewrite(100, 90_000)).toBe(true);
    const first = { seq: rewriter.sequenceNumber, ts: rewriter.timestamp };
    expect(rewriter.rewrite(101, 93_000)).toBe(true);
    expect(rewriter.sequenceNumber).toBe((first.seq + 1) & 0xffff);
    expect(rewriter.timestamp).toBe(first.ts + 3000);
    // Another source, numbered anything: the next outgoing number follows on, the timestamp one frame later.
    rewriter.resync();
    expect(rewriter.rewrite(60_000, 5)).toBe(true);
    expect(rewriter.sequenceNumber).toBe((first.seq + 2) & 0xffff);
    expect(rewriter.timestamp).toBe(first.ts + 3000 + 3000);
    // A late packet of the new source from before its first one is dropped.
    expect(rewriter.rewrite(59_999, 2)).toBe(false);
    // NACK translation: outgoing number to the incoming one and the offset it went out with.
    expect(rewriter.incomingFor((first.seq + 1) & 0xffff)).toBe(101);
    expect((93_000 + rewriter.timestampOffsetFor((first.seq + 1) & 0xffff)) >>> 0).toBe(first.ts + 3000);
    expect(rewriter.incomingFor((first.seq + 2) & 0xffff)).toBe(60_000);
    expect(rewriter.incomingFor((first.seq + 3) & 0xffff)).toBe(-1);
  });
});

describe('VideoSubscription', () => {
  function subscription(extensions = [{ id: 3, uri: 'urn:3gpp:video-orientation' }], now = () => 0) {
    const sent: Buffer[] = [];
    let keyframeRequests = 0;
    const scratch = Buffer.alloc(2048);
    const views: Buffer[] = [];
    const sub = new VideoSubscription('viewer', { mid: '2', publisherId: 'pub', payloadType: 100, ssrc: 4242, extensions }, {
      send: (packet) => {
        sent.push(Buffer.from(packet));
        return true;
      },
      requestKeyframe: () => keyframeRequests++,
      scratch,
      view: (length) => (views[length] ??= scratch.subarray(0, length)),
      now,
      mayResend: () => true,
    });
    sub.attach([{ id: 7, uri: 'urn:3gpp:video-orientation' }, { id: 9, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' }]);
    sub.open = true;
    return { sub, sent, keyframeRequests: () => keyframeRequests };
  }
  const load = (packet: VideoPacket, buffer: Buffer): VideoPacket => {
    expect(packet.load(buffer, 0)).toBe(true);
    return packet;
  };

  it('starts on a keyframe (asking for one meanwhile), then forwards with its own SSRC, payload type, numbering and extension ids', () => {
    const { sub, sent, keyframeRequests } = subscription();
    const packet = new VideoPacket('VP8');
    const ext = [{ id: 7, data: Buffer.from([1]) }, { id: 9, data: Buffer.from([1, 2, 3]) }];
    sub.input(load(packet, vp8(false, 500, undefined, ext)));
    expect(sent).toHaveLength(0);
    expect(keyframeRequests()).toBe(1);
    sub.input(load(packet, vp8(true, 501, undefined, ext)));
    sub.input(load(packet, vp8(false, 502, undefined, ext)));
    const out = sent.map((b) => parseRtp(b)!);
    expect(out.map((o) => [o.ssrc, o.payloadType])).toEqual([[4242, 100], [4242, 100]]);
    expect(out[1]!.sequenceNumber).toBe((out[0]!.sequenceNumber + 1) & 0xffff);
    // Only the orientation extension is negotiated with the viewer, under its id 3.
    expect(readHeaderExtensions(sent[0]!, out[0]!).map((e) => [e.id, [...e.data]])).toEqual([[3, [1]]]);
    expect(sent[1]!.subarray(out[1]!.payloadOffset)).toEqual(Buffer.from([0x10, 0x01, 0xaa, 502 & 0xff]));
  });

  it('stamps abs-send-time at send time under the viewer\'s id when the viewer negotiated it, never the publisher\'s value', () => {
    let now = 10_000;
    const abs = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
    const { sub, sent } = subscription([{ id: 3, uri: 'urn:3gpp:video-orientation' }, { id: 5, uri: abs }], () => now);
    const packet = new VideoPacket('VP8');
    const ext = [{ id: 7, data: Buffer.from([1]) }, { id: 9, data: Buffer.from([0xaa, 0xbb, 0xcc]) }];
    sub.input(load(packet, vp8(true, 501, undefined, ext)));
    now += 250;
    sub.input(load(packet, vp8(false, 502, undefined, ext)));
    const stamps = sent.map((b) => readHeaderExtensions(b, parseRtp(b)!).map((e) => [e.id, [...e.data]]));
    // 10 s and 10.25 s in 6.18 fixed point: 0x280000 and 0x290000.
    expect(stamps).toEqual([[[3, [1]], [5, [0x28, 0, 0]]], [[3, [1]], [5, [0x29, 0, 0]]]]);
    // A renegotiation without it stops the stamp.
    sub.update({ ...sub.spec, extensions: [{ id: 3, uri: 'urn:3gpp:video-orientation' }] }, undefined);
    sub.input(load(packet, vp8(false, 503, undefined, ext)));
    expect(readHeaderExtensions(sent[2]!, parseRtp(sent[2]!)!).map((e) => e.id)).toEqual([3]);
  });

  it('pauses, and resumes only on a keyframe; a NACKed packet is resent under the number it had', () => {
    const { sub, sent } = subscription();
    const packet = new VideoPacket('VP8');
    const held = new Map<number, Buffer>();
    const feed = (key: boolean, seq: number) => {
      const buffer = vp8(key, seq);
      held.set(seq, buffer);
      sub.input(load(packet, buffer));
    };
    feed(true, 10);
    feed(false, 11);
    const secondOut = parseRtp(sent[1]!)!;
    sub.paused = true;
    feed(false, 12);
    expect(sent).toHaveLength(2);
    sub.paused = false;
    sub.waitingKeyframe = true;
    feed(false, 13);
    feed(true, 14);
    expect(sent).toHaveLength(3);
    // The resumed stream continues the numbering: no gap for what was not sent.
    expect(parseRtp(sent[2]!)!.sequenceNumber).toBe((secondOut.sequenceNumber + 1) & 0xffff);
    const resent = new VideoPacket('VP8');
    expect(sub.retransmit(secondOut.sequenceNumber, (inSeq) => load(resent, held.get(inSeq)!))).toBe(true);
    expect(parseRtp(sent[3]!)).toMatchObject({ sequenceNumber: secondOut.sequenceNumber, timestamp: secondOut.timestamp, ssrc: 4242 });
    expect(sub.counters).toMatchObject({ forwarded: 3, retransmitted: 1 });
  });
});
