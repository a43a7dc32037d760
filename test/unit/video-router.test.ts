import { describe, expect, it } from 'vitest';
import { DEFAULT_MEDIA_SETTINGS } from '../../src-main/server/defaults.js';
import { createLogger } from '../../src-main/server/logger.js';
import { compactNtp } from '../../src-main/server/media/rtp/ntp.js';
import { buildNack, buildPli, buildRemb, parseRtcp, type RtcpMessage } from '../../src-main/server/media/rtp/rtcp.js';
import { buildRtp, isRtcpPacket, parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { EgressBudget } from '../../src-main/server/media/bwe/egress-budget.js';
import { VideoRouter } from '../../src-main/server/media/video/video-router.js';

/** The video router with a recording transport and a hand-moved clock: no sockets, no timers. */

const PUB = { mid: '1', codec: 'VP8' as const, payloadType: 96, ssrc: 1111, maxBitrateBps: 1_500_000, extensions: [] };
const sub = (publisherId: string, ssrc: number, mid = '2') => ({ mid, publisherId, payloadType: 98, ssrc, extensions: [] });
const vp8 = (key: boolean, seq: number) =>
  buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: (seq * 3000) >>> 0, ssrc: 1111, marker: true, payload: Buffer.from([0x10, key ? 0 : 1, seq & 0xff, 0x55]) });

/** Subscribes `who` to alice's camera on mid 2, and opens that track as a connected peer would. */
function open(router: VideoRouter, who: string, ssrc: number): void {
  router.setSubscriptions(who, [sub('alice', ssrc)]);
  router.subscriberTrackOpened(who, '2');
}

function setup(video = DEFAULT_MEDIA_SETTINGS.video) {
  let now = 0;
  const sent: { to: string; mid: string; packet: Buffer }[] = [];
  const router = new VideoRouter(
    { send: (to, mid, packet) => (sent.push({ to, mid, packet: Buffer.from(packet) }), true) },
    video,
    createLogger({ level: 'error', write: () => undefined }),
    () => now,
  );
  const rtp = (to: string) => sent.filter((s) => s.to === to && !isRtcpPacket(s.packet)).map((s) => ({ ...parseRtp(s.packet)!, body: s.packet[s.packet.length - 2] }));
  const rtcp = (to: string): RtcpMessage[] => sent.filter((s) => s.to === to && isRtcpPacket(s.packet)).flatMap((s) => parseRtcp(s.packet));
  return { router, sent, rtp, rtcp, advance: (ms: number) => (now += ms), at: () => now };
}

describe('VideoRouter', () => {
  it('forwards one publisher to two subscribers, each with its own SSRC and continuous numbering, from a keyframe', () => {
    const { router, rtp } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    open(router, 'carol', 3001);
    router.onPublisherRtp('alice', vp8(false, 100));
    router.onPublisherRtp('alice', vp8(true, 101));
    for (let s = 102; s < 110; s++) router.onPublisherRtp('alice', vp8(false, s));
    for (const [who, ssrc] of [['bob', 2001], ['carol', 3001]] as const) {
      const got = rtp(who);
      expect(got).toHaveLength(9);
      expect(new Set(got.map((p) => p.ssrc))).toEqual(new Set([ssrc]));
      expect(got.every((p, i) => i === 0 || p.sequenceNumber === ((got[i - 1]!.sequenceNumber + 1) & 0xffff))).toBe(true);
      expect(got.map((p) => p.body)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109].map((s) => s & 0xff));
    }
    expect(router.stats).toMatchObject({ packetsIn: 10, packetsForwarded: 18 });
  });

  it('answers a subscriber\'s NACK from the one shared buffer, rewritten with that subscriber\'s numbers', () => {
    const { router, rtp, sent } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    open(router, 'carol', 3001);
    router.onPublisherRtp('alice', vp8(true, 500));
    for (let s = 501; s < 505; s++) router.onPublisherRtp('alice', vp8(false, s));
    const bobsThird = rtp('bob')[2]!;
    const before = sent.length;
    router.onSubscriberRtcp('bob', '2', buildNack(2001, 2001, [bobsThird.sequenceNumber]));
    const resent = sent.slice(before);
    expect(resent.map((r) => r.to)).toEqual(['bob']);
    expect(parseRtp(resent[0]!.packet)).toMatchObject({ ssrc: 2001, sequenceNumber: bobsThird.sequenceNumber, timestamp: bobsThird.timestamp });
    expect(resent[0]!.packet[resent[0]!.packet.length - 2]).toBe(502 & 0xff);
    expect(router.stats.retransmissions).toBe(1);
    // A number this subscriber was never sent is not answered.
    router.onSubscriberRtcp('bob', '2', buildNack(2001, 2001, [(bobsThird.sequenceNumber + 100) & 0xffff]));
    expect(sent.length).toBe(before + 1);
  });

  it('answers NACKs only within a quarter of the subscriber\'s figure: a congested viewer NACKing everything gets no retransmission storm', () => {
    const { router, sent, advance } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    // 1,000 packets of 1,000 bytes, a millisecond apart; bob NACKs every one of them, 100 at a time, over one second.
    const big = (seq: number) => buildRtp({ payloadType: 96, sequenceNumber: seq, timestamp: seq * 90, ssrc: 1111, marker: true, payload: Buffer.concat([Buffer.from([0x10, seq === 0 ? 0 : 1]), Buffer.alloc(986)]) });
    for (let s = 0; s < 1000; s++) router.onPublisherRtp('alice', big(s));
    const out = sent.filter((x) => x.to === 'bob' && !isRtcpPacket(x.packet)).map((x) => parseRtp(x.packet)!.sequenceNumber);
    const before = sent.length;
    for (let i = 0; i < 10; i++) {
      router.onSubscriberRtcp('bob', '2', buildNack(2001, 2001, out.slice(i * 100, i * 100 + 100)));
      advance(100);
    }
    const resentBytes = sent.slice(before).reduce((n, x) => n + x.packet.length, 0);
    // Its figure is the starting 2.8 Mbps: a quarter is 700 kbps, about 87 KB in that second (plus the first burst).
    expect(resentBytes).toBeGreaterThan(60_000);
    expect(resentBytes).toBeLessThan(130_000);
    expect(router.stats.retransmissions).toBeLessThan(130);
  });

  it('merges keyframe requests from every subscriber into one PLI per 500 ms, and asks again after 1 s without a keyframe', () => {
    const { router, rtcp, advance } = setup();
    router.publish('alice', PUB);
    const plis = () => rtcp('alice').filter((m) => m.kind === 'pli').length;
    expect(plis()).toBe(1);
    for (let i = 0; i < 10; i++) {
      open(router, `viewer${i}`, 4000 + i);
      router.onSubscriberRtcp(`viewer${i}`, '2', buildPli(4000 + i, 4000 + i));
      advance(30);
      router.tick();
    }
    expect(plis()).toBe(1);
    advance(700); // 1 s since the PLI, and no keyframe yet
    router.tick();
    expect(plis()).toBe(2);
    router.onPublisherRtp('alice', vp8(true, 1));
    advance(2000);
    router.tick();
    expect(plis()).toBe(2);
  });

  it('repairs loss toward the server: NACKs the publisher for a gap, forwards the retransmission in place, and asks for a keyframe after 1 s', () => {
    const { router, rtp, rtcp, advance } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    router.onPublisherRtp('alice', vp8(true, 10));
    router.onPublisherRtp('alice', vp8(false, 11));
    router.onPublisherRtp('alice', vp8(false, 14)); // 12 and 13 lost on the way to the server
    advance(20);
    router.tick();
    const nacks = () => rtcp('alice').filter((m): m is Extract<RtcpMessage, { kind: 'nack' }> => m.kind === 'nack');
    expect(nacks().map((n) => n.sequenceNumbers)).toEqual([[12, 13]]);
    expect(nacks()[0]!.mediaSsrc).toBe(1111);
    router.onPublisherRtp('alice', vp8(false, 12)); // the publisher resends 12
    const out = rtp('bob');
    // Bob's numbering keeps the holes where 12 and 13 belong; 12 lands in its own.
    expect(out.map((p) => p.body)).toEqual([10, 11, 14, 12]);
    expect(out.map((p) => (p.sequenceNumber - out[0]!.sequenceNumber) & 0xffff)).toEqual([0, 1, 4, 2]);
    // 13 never comes: asked again about once per round trip, then a keyframe request after 1 s.
    const plisBefore = rtcp('alice').filter((m) => m.kind === 'pli').length;
    for (let t = 0; t < 50; t++) {
      advance(20);
      router.tick();
    }
    expect(nacks().length).toBeGreaterThan(2);
    expect(nacks().slice(1).every((n) => n.sequenceNumbers.join() === '13')).toBe(true);
    expect(rtcp('alice').filter((m) => m.kind === 'pli').length).toBe(plisBefore + 1);
    expect(router.stats).toMatchObject({ upstreamMissing: 2, upstreamRecovered: 1, upstreamGivenUp: 1 });
  });

  it('a publisher that comes back (a reconnect) keeps its subscribers: they restart on its keyframe without a numbering jump', () => {
    const { router, rtp } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    router.onPublisherRtp('alice', vp8(true, 100));
    router.onPublisherRtp('alice', vp8(false, 101));
    router.removeParticipant('alice', { keepPublication: true });
    router.publish('alice', { ...PUB, ssrc: 1111 });
    router.onPublisherRtp('alice', vp8(false, 7));
    router.onPublisherRtp('alice', vp8(true, 8));
    const out = rtp('bob');
    expect(out.map((p) => p.body)).toEqual([100, 101, 8]);
    expect((out[2]!.sequenceNumber - out[1]!.sequenceNumber) & 0xffff).toBe(1);
  });

  it('pause stops a subscription; resume waits for a keyframe and asks for one', () => {
    const { router, rtp, rtcp, advance } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    router.onPublisherRtp('alice', vp8(true, 1));
    router.setPaused('bob', ['alice'], true);
    router.onPublisherRtp('alice', vp8(false, 2));
    advance(600);
    const plis = rtcp('alice').filter((m) => m.kind === 'pli').length;
    router.setPaused('bob', ['alice'], false);
    expect(rtcp('alice').filter((m) => m.kind === 'pli').length).toBe(plis + 1);
    router.onPublisherRtp('alice', vp8(false, 3));
    router.onPublisherRtp('alice', vp8(true, 4));
    expect(rtp('bob').map((p) => p.body)).toEqual([1, 4]);
  });

  it('drops RTX, padding-only and foreign-SSRC packets, and caps the publisher with REMB', () => {
    const { router, rtp, rtcp, advance } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    router.onPublisherRtp('alice', vp8(true, 1));
    router.onPublisherRtp('alice', buildRtp({ payloadType: 97, sequenceNumber: 2, timestamp: 1, ssrc: 1111, payload: Buffer.from([0, 1, 2]) }));
    router.onPublisherRtp('alice', buildRtp({ payloadType: 96, sequenceNumber: 3, timestamp: 1, ssrc: 9999, payload: Buffer.from([0x10, 0]) }));
    router.onPublisherRtp('alice', buildRtp({ payloadType: 96, sequenceNumber: 4, timestamp: 1, ssrc: 1111, payload: Buffer.alloc(0) }));
    router.onPublisherRtp('alice', Buffer.from([0x80, 96, 0]));
    expect(rtp('bob')).toHaveLength(1);
    advance(1000);
    router.tick();
    expect(rtcp('alice').filter((m) => m.kind === 'remb')).toEqual([expect.objectContaining({ bitrate: expect.closeTo(1_500_000, -4), ssrcs: [1111] })]);
  });

  it('spends no keyframe on a track that is not open yet: it asks when the track opens, and starts on the next one', () => {
    const { router, rtp, rtcp, advance } = setup();
    router.publish('alice', PUB);
    advance(600);
    router.setSubscriptions('bob', [sub('alice', 2001)]);
    const plis = () => rtcp('alice').filter((m) => m.kind === 'pli').length;
    const before = plis();
    router.onPublisherRtp('alice', vp8(true, 1)); // bob cannot receive yet
    router.onPublisherRtp('alice', vp8(false, 2));
    expect(rtp('bob')).toEqual([]);
    expect(plis()).toBe(before);
    router.subscriberTrackOpened('bob', '2');
    expect(plis()).toBe(before + 1);
    router.onPublisherRtp('alice', vp8(false, 3));
    router.onPublisherRtp('alice', vp8(true, 4));
    expect(rtp('bob').map((p) => p.body)).toEqual([4]);
  });
});

describe('VideoRouter bandwidth figures', () => {
  /** A compound RTCP packet as Chrome sends it: a receiver report on our SSRC, then REMB. */
  /**
   * A receiver report block about an interval that carried packets (its highest sequence number moves
   * on each time); `lastSr` and `heldMs` echo a sender report as a receiver does.
   */
  let reportedHighest = 0;
  const rr = (reporter: number, about: number, fractionLost: number, lastSr = 0, heldMs = 0): Buffer => {
    const b = Buffer.alloc(32);
    b[0] = 0x81;
    b[1] = 201;
    b.writeUInt16BE(7, 2);
    b.writeUInt32BE(reporter, 4);
    b.writeUInt32BE(about, 8);
    b[12] = fractionLost;
    b.writeUInt32BE((reportedHighest += 100), 16);
    b.writeUInt32BE(lastSr, 24);
    b.writeUInt32BE(Math.round((heldMs * 65536) / 1000), 28);
    return b;
  };

  it('feeds each subscriber\'s estimate with its REMB (on whichever m-section it arrives), loss on our video, and what it was sent', () => {
    const { router, advance } = setup();
    router.publish('alice', PUB);
    open(router, 'bob', 2001);
    open(router, 'carol', 3001);
    expect(router.downlinkEstimateBps('bob')).toBe(2_800_000);
    expect(router.downlinkEstimateBps('dave')).toBe(0);
    // 1.6 Mbps of video to bob and carol (200-byte packets every millisecond).
    const big = (seq: number) => buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 90, ssrc: 1111, marker: true, payload: Buffer.concat([Buffer.from([0x10, seq === 0 ? 0 : 1]), Buffer.alloc(186)]) });
    let seq = 0;
    const flow = (ms: number) => {
      for (let t = 0; t < ms; t++, seq++) {
        router.onPublisherRtp('alice', big(seq));
        advance(1);
      }
    };
    router.onSubscriberRtcp('bob', '2', Buffer.concat([rr(1, 2001, 0), buildRemb(1, 3_000_000, [2001])]));
    flow(2000);
    router.updateDownlinks();
    expect(router.downlinkEstimateBps('bob')).toBeGreaterThan(2_800_000);
    // Over-use: REMB falls under what bob is sent. It arrives on the audio m-section (libdatachannel routes RTCP by SSRC); it is per connection.
    router.onSubscriberRtcp('bob', '0', Buffer.concat([rr(1, 2001, 3), buildRemb(1, 1_000_000, [2001])]));
    // Loss on an SSRC that is not video we send carol (her audio) is not video loss; 25% on her video is.
    router.onSubscriberRtcp('carol', '0', rr(1, 777, 200));
    flow(1500);
    router.updateDownlinks();
    expect(router.downlinkEstimateBps('bob')).toBe(1_000_000);
    expect(router.downlinkEstimateBps('carol')).toBeGreaterThan(2_800_000);
    router.onSubscriberRtcp('carol', '2', rr(1, 3001, 64));
    flow(1500);
    router.updateDownlinks();
    // No REMB from carol: the rate that got through (1.6 Mbps), less half the loss.
    expect(router.downlinkEstimateBps('carol')).toBeGreaterThan(1_300_000);
    expect(router.downlinkEstimateBps('carol')).toBeLessThan(1_500_000);
    router.removeParticipant('bob');
    expect(router.downlinkEstimateBps('bob')).toBe(0);
  });

  /**
   * bob subscribed to alice (mid 2) and carol (mid 3), each sending 800 kbps (100-byte packets every
   * millisecond); `flow(ms, keyAt)` plays that, with the media clock ticking every 20 ms when asked.
   */
  const bobWatchesAliceAndCarol = (options: { mediaClock: boolean; video?: typeof DEFAULT_MEDIA_SETTINGS.video; andDave?: boolean }) => {
    const t = setup(options.video);
    const { router, advance } = t;
    // alice 1111 -> bob 2001 on mid 2, carol 3333 -> 2002 on 3, and (andDave) dave 5555 -> 2003 on 4.
    const publishers = options.andDave ? ['alice', 'carol', 'dave'] : ['alice', 'carol'];
    publishers.forEach((id, i) => router.publish(id, { ...PUB, ssrc: 1111 + 2222 * i }));
    router.setSubscriptions('bob', publishers.map((id, i) => sub(id, 2001 + i, String(2 + i))));
    publishers.forEach((_, i) => router.subscriberTrackOpened('bob', String(2 + i)));
    const packet = (ssrc: number, seq: number, key = false) => buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 90, ssrc, marker: true, payload: Buffer.concat([Buffer.from([0x10, key ? 0 : 1]), Buffer.alloc(86)]) });
    let seq = 0;
    const flow = (ms: number, keyAt = -1) => {
      for (let i = 0; i < ms; i++, seq++) {
        publishers.forEach((id, p) => router.onPublisherRtp(id, packet(1111 + 2222 * p, seq, seq === 0 || i === keyAt)));
        advance(1);
        if (options.mediaClock && i % 20 === 19) router.tick();
      }
    };
    const rank = (id: string) => publishers.indexOf(id);
    const round = () => {
      router.updateDownlinks();
      return router.allocateDownlinks(rank);
    };
    return { ...t, flow, round };
  };

  it('pauses for a subscriber the lower-priority video its downlink cannot carry, and resumes it on a keyframe once it fits again', () => {
    const { router, rtp, flow, round } = bobWatchesAliceAndCarol({ mediaClock: false });
    flow(1500);
    expect(round()).toEqual([]);
    // 40% loss on what bob gets from carol: its figure drops to 1.6 Mbps x 0.8 = 1.28 Mbps, 1.15 for video.
    router.onSubscriberRtcp('bob', '3', rr(1, 2002, 102));
    flow(1500);
    expect(round()).toEqual([{ subscriberId: 'bob', paused: ['carol'], resumed: [] }]);
    const before = rtp('bob').filter((p) => p.ssrc === 2002).length;
    flow(500);
    expect(rtp('bob').filter((p) => p.ssrc === 2002).length).toBe(before);
    expect(rtp('bob').filter((p) => p.ssrc === 2001).length).toBeGreaterThan(0);
    // The loss goes, the figure grows after its 10 s hold, and carol comes back 5 s after fitting again.
    router.onSubscriberRtcp('bob', '2', rr(1, 2002, 0));
    const resumedAt: number[] = [];
    for (let i = 0; i < 20 && resumedAt.length === 0; i++) {
      flow(1500);
      if (round().some((c) => c.resumed.includes('carol'))) resumedAt.push(i);
    }
    expect(resumedAt).toHaveLength(1);
    const paused = rtp('bob').filter((p) => p.ssrc === 2002).length;
    flow(100);
    expect(rtp('bob').filter((p) => p.ssrc === 2002).length).toBe(paused);
    flow(100, 10);
    expect(rtp('bob').filter((p) => p.ssrc === 2002).length).toBe(paused + 90);
  });

  it('forgets the loss of a video it paused: the figure is not cut a second time for loss already acted on', () => {
    const { router, flow, round } = bobWatchesAliceAndCarol({ mediaClock: false });
    flow(1500);
    round();
    router.onSubscriberRtcp('bob', '3', rr(1, 2002, 102));
    flow(1500);
    expect(round()).toEqual([{ subscriberId: 'bob', paused: ['carol'], resumed: [] }]);
    const cut = router.downlinkEstimateBps('bob');
    // No report since (carol carries nothing to report on; alice's next one is late): 3 s on, the
    // 40% that paused carol is not taken for new congestion.
    for (let i = 0; i < 3; i++) {
      flow(1500);
      expect(round()).toEqual([]);
    }
    expect(router.downlinkEstimateBps('bob')).toBe(cut);
  });

  describe('probing a paused video\'s link with padding', () => {
    /** bob gets alice and carol (800 kbps each); 40% loss on carol has just paused her. */
    /** Probes of 1.2 s, judged on reports from 1 s in: room for the echoes these tests stage. */
    const video = { ...DEFAULT_MEDIA_SETTINGS.video, prober: { ...DEFAULT_MEDIA_SETTINGS.video.prober, durationMs: 1200, reportDelayMs: 1000 } };
    const pausedCarol = () => {
      const t = bobWatchesAliceAndCarol({ mediaClock: true, video });
      const { router, flow, round } = t;
      flow(1500);
      round();
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 102));
      flow(1500);
      expect(round()).toEqual([{ subscriberId: 'bob', paused: ['carol'], resumed: [] }]);
      // The loss goes with her.
      router.onSubscriberRtcp('bob', '2', rr(1, 2002, 0));
      return t;
    };
    const padding = <T extends { ssrc: number; payloadLength: number; paddingLength: number }>(packets: T[]) => packets.filter((p) => p.ssrc === 2002 && p.payloadLength === 0 && p.paddingLength > 0);
    /** Allocation rounds every 500 ms until a probe's padding goes out, then 100 ms more of it. */
    const untilProbing = (t: ReturnType<typeof pausedCarol>) => {
      const before = padding(t.rtp('bob')).length;
      while (padding(t.rtp('bob')).length === before) {
        t.flow(500);
        t.round();
        t.flow(20);
      }
      t.flow(100);
    };
    /**
     * Waits for the router's next sender report on `ssrc` to bob, and has bob's report echo it as one that
     * took `transitMs` there and back and was held `heldMs` before the answer: a round trip of the difference.
     */
    const echoNextSenderReport = (t: ReturnType<typeof pausedCarol>, mid: string, ssrc: number, transitMs: number, heldMs: number) => {
      const reports = () => t.rtcp('bob').filter((m) => m.kind === 'sender-report' && m.ssrc === ssrc);
      const count = reports().length;
      while (reports().length === count) {
        t.flow(1);
        t.router.tick();
      }
      const sr = reports().at(-1) as Extract<RtcpMessage, { kind: 'sender-report' }>;
      t.flow(transitMs);
      t.router.onSubscriberRtcp('bob', mid, rr(1, ssrc, 0, compactNtp(sr.ntpMsw, sr.ntpLsw), heldMs));
    };

    it('pads on the paused m-section, numbered on from its video, and resumes it at once when the padding got through', () => {
      const t = pausedCarol();
      const { router, rtp, flow, round } = t;
      const before = rtp('bob').filter((p) => p.ssrc === 2002);
      const figure = router.downlinkEstimateBps('bob');
      // The first probe starts 2 s after the cut; bob's reports echo sender reports at the link's own round trip.
      echoNextSenderReport(t, '2', 2001, 15, 10);
      untilProbing(t);
      echoNextSenderReport(t, '3', 2002, 15, 10);
      echoNextSenderReport(t, '2', 2001, 15, 10);
      flow(1200);
      const pads = padding(rtp('bob'));
      // About what carol needs with margin, less what bob gets, for 1.2 s: (0.8 + 1.2 x 0.8 Mbps) / 0.9 x 1.15, minus 0.8.
      const bytes = pads.reduce((n, p) => n + 12 + p.paddingLength, 0);
      expect(bytes * 8 / 1.2).toBeGreaterThan(1_200_000);
      expect(bytes * 8 / 1.2).toBeLessThan(1_700_000);
      const numbers = [...before, ...pads].map((p) => p.sequenceNumber);
      expect(numbers.every((n, i) => i === 0 || n === ((numbers[i - 1]! + 1) & 0xffff))).toBe(true);
      // bob's report after the padding: nothing lost. Carol resumes in this round, not 5 s after fitting.
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 0));
      expect(round()).toEqual([{ subscriberId: 'bob', paused: [], resumed: ['carol'] }]);
      expect(router.downlinkEstimateBps('bob')).toBeGreaterThan(figure);
      // Her video goes on after the padding's numbers, from a keyframe.
      flow(100, 10);
      const after = rtp('bob').filter((p) => p.ssrc === 2002 && p.payloadLength > 0).slice(before.length);
      expect(after[0]!.sequenceNumber).toBe((pads.at(-1)!.sequenceNumber + 1) & 0xffff);
    });

    it('stops the padding as soon as a sender report comes back through the queue it built, and resumes nothing though no loss is reported', () => {
      const t = pausedCarol();
      const { router, rtp, flow, round } = t;
      // The link's round trip with an empty queue: 5 ms.
      echoNextSenderReport(t, '2', 2001, 15, 10);
      untilProbing(t);
      // Sender reports sent during the probe come back 200 ms later than the link's own round trip
      // (a router 200 ms deep, filling with padding, as tbf's is in the e2e test): no loss yet, but queueing.
      // One late echo could be the receiver's own hiccup: the padding goes on until a second one.
      echoNextSenderReport(t, '3', 2002, 215, 10);
      const afterOne = padding(rtp('bob')).length;
      flow(50);
      expect(padding(rtp('bob')).length).toBeGreaterThan(afterOne);
      echoNextSenderReport(t, '2', 2001, 215, 10);
      const stoppedAt = padding(rtp('bob')).length;
      flow(500);
      expect(padding(rtp('bob')).length).toBe(stoppedAt);
      // Its reports then say nothing was lost: carol stays paused all the same.
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 0));
      router.onSubscriberRtcp('bob', '2', rr(1, 2001, 0));
      expect(round()).toEqual([]);
      flow(1500);
      expect(round()).toEqual([]);
    });

    it('goes on probing, and resumes the video, while sender reports come back at the link\'s own round trip', () => {
      const t = pausedCarol();
      const { router, rtp, flow, round } = t;
      echoNextSenderReport(t, '2', 2001, 15, 10);
      untilProbing(t);
      echoNextSenderReport(t, '3', 2002, 40, 10);
      echoNextSenderReport(t, '2', 2001, 40, 10);
      const sofar = padding(rtp('bob')).length;
      flow(200);
      expect(padding(rtp('bob')).length).toBeGreaterThan(sofar);
      flow(1000);
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 0));
      expect(round()).toEqual([{ subscriberId: 'bob', paused: [], resumed: ['carol'] }]);
    });

    it('does not probe while the video that plays is still losing packets (the link is full already), and does once a report is clean', () => {
      const t = pausedCarol();
      const { router, rtp, flow, round } = t;
      // 4% lost on alice's video: under the 10% that cuts the figure, over the 2% a probe may start with.
      for (let i = 0; i < 10; i++) {
        router.onSubscriberRtcp('bob', '2', rr(1, 2001, 10));
        flow(500);
        round();
      }
      expect(padding(rtp('bob'))).toHaveLength(0);
      router.onSubscriberRtcp('bob', '2', rr(1, 2001, 0));
      for (let i = 0; i < 4 && padding(rtp('bob')).length === 0; i++) {
        flow(500);
        round();
        flow(20);
      }
      expect(padding(rtp('bob')).length).toBeGreaterThan(0);
    });

    it('judges a client that echoes no sender report on its loss alone, once the round trips are overdue', () => {
      const t = pausedCarol();
      const { router, flow, round } = t;
      untilProbing(t);
      flow(1200);
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 0));
      // Nothing lost, but no round trip yet to say whether it queued: wait.
      expect(round()).toEqual([]);
      flow(2500);
      expect(round()).toEqual([{ subscriberId: 'bob', paused: [], resumed: ['carol'] }]);
    });

    it('leaves the video paused and the figure where it was when the padding was lost, and probes again later', () => {
      const { router, rtp, flow, round } = pausedCarol();
      flow(1500);
      round();
      flow(1500);
      round();
      flow(1500);
      const figure = router.downlinkEstimateBps('bob');
      expect(padding(rtp('bob')).length).toBeGreaterThan(0);
      // Half the padding lost: no resume, and the padding's loss cuts nothing.
      router.onSubscriberRtcp('bob', '3', rr(1, 2002, 128));
      router.onSubscriberRtcp('bob', '2', rr(1, 2001, 40));
      expect(round()).toEqual([]);
      flow(1500);
      expect(round()).toEqual([]);
      expect(router.downlinkEstimateBps('bob')).toBe(figure);
      // No padding while the next probe waits (4 s after the failure), then some again.
      const count = padding(rtp('bob')).length;
      flow(1500);
      round();
      expect(padding(rtp('bob')).length).toBe(count);
      flow(3000);
      round();
      flow(1500);
      expect(padding(rtp('bob')).length).toBeGreaterThan(count);
    });
  });

  it('measures each publisher\'s forwarded rate over the last two seconds', () => {
    const { router, advance } = setup();
    router.publish('alice', PUB);
    expect(router.streamBitrateBps('alice')).toBe(0);
    // 100 packets a second of 16 bytes (12 of header, 4 of payload): 12.8 kbps.
    for (let s = 0; s < 300; s++) {
      router.onPublisherRtp('alice', vp8(s === 0, s));
      advance(10);
    }
    expect(router.streamBitrateBps('alice')).toBeGreaterThan(12_000);
    expect(router.streamBitrateBps('alice')).toBeLessThan(13_500);
    // Not counted: another SSRC (RTX) or garbage.
    for (let s = 0; s < 300; s++) {
      router.onPublisherRtp('alice', buildRtp({ payloadType: 97, sequenceNumber: s, timestamp: 0, ssrc: 9999, payload: Buffer.alloc(1000) }));
      advance(10);
    }
    expect(router.streamBitrateBps('alice')).toBe(0);
    expect(router.streamBitrateBps('nobody')).toBe(0);
  });
});

describe('VideoRouter under the host\'s egress budget', () => {
  it('holds each subscriber to its fair share of the host\'s cap, across meetings: what does not fit is paused for it', () => {
    let now = 0;
    const budget = new EgressBudget(2_000_000);
    const make = (scope: string) =>
      new VideoRouter({ send: () => true }, DEFAULT_MEDIA_SETTINGS.video, createLogger({ level: 'error', write: () => undefined }), () => now, undefined, { budget, scope });
    const one = make('meeting-1');
    const two = make('meeting-2');
    one.publish('alice', PUB);
    one.publish('carol', { ...PUB, ssrc: 3333 });
    two.publish('erin', { ...PUB, ssrc: 5555 });
    one.setSubscriptions('bob', [sub('alice', 2001, '2'), sub('carol', 2002, '3')]);
    two.setSubscriptions('dan', [sub('erin', 4001, '2')]);
    // Every publisher sends 800 kbps: bob would take 1.6 Mbps, dan 0.8 Mbps; the host may send 2 Mbps in all.
    const packet = (ssrc: number, seq: number) => buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 90, ssrc, marker: true, payload: Buffer.concat([Buffer.from([0x10, seq === 0 ? 0 : 1]), Buffer.alloc(86)]) });
    let seq = 0;
    const flow = (ms: number) => {
      for (let end = seq + ms; seq < end; seq++, now++) {
        one.onPublisherRtp('alice', packet(1111, seq));
        one.onPublisherRtp('carol', packet(3333, seq));
        two.onPublisherRtp('erin', packet(5555, seq));
      }
    };
    flow(1500);
    const rank = (id: string) => ['alice', 'carol', 'erin'].indexOf(id);
    // No downlink estimates at all (no REMB yet): the budget alone decides.
    expect(two.allocateDownlinks(rank)).toEqual([]);
    expect(one.allocateDownlinks(rank)).toEqual([{ subscriberId: 'bob', paused: ['carol'], resumed: [] }]);
    // dan asks for less than an equal share and gets it; bob gets the 1.2 Mbps left, which carries one video.
    expect(budget.capFor('meeting-2/dan')).toBe(1_200_000);
    // dan leaves: bob's share grows to the whole budget, and carol comes back once it has fitted for 5 s.
    two.removeParticipant('dan');
    const resumed: string[] = [];
    for (let i = 0; i < 6; i++) {
      flow(1500);
      resumed.push(...one.allocateDownlinks(rank).map((c) => `${c.resumed.join()}@${i}`));
    }
    // Fitting (1.6 of 2 Mbps, its margin included) from the first round after, back 5 s later.
    expect(resumed).toEqual(['carol@4']);
  });
});

describe('VideoRouter server pauses and the subscriber\'s own', () => {
  it('a video the server paused, then the subscriber paused and resumed itself, is not left paused for good', () => {
    let now = 0;
    const sent: { to: string; packet: Buffer }[] = [];
    const budget = new EgressBudget(1_000_000);
    const router = new VideoRouter({ send: (to, _mid, packet) => (sent.push({ to, packet: Buffer.from(packet) }), true) }, DEFAULT_MEDIA_SETTINGS.video,
      createLogger({ level: 'error', write: () => undefined }), () => now, undefined, { budget, scope: 'm' });
    router.publish('alice', PUB);
    router.publish('carol', { ...PUB, ssrc: 3333 });
    router.setSubscriptions('bob', [sub('alice', 2001, '2'), sub('carol', 2002, '3')]);
    router.subscriberTrackOpened('bob', '2');
    router.subscriberTrackOpened('bob', '3');
    const packet = (ssrc: number, seq: number, key: boolean) => buildRtp({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 90, ssrc, marker: true, payload: Buffer.concat([Buffer.from([0x10, key ? 0 : 1]), Buffer.alloc(86)]) });
    let seq = 0;
    const flow = (ms: number) => {
      for (let end = seq + ms; seq < end; seq++, now++) {
        const key = seq % 500 === 0;
        router.onPublisherRtp('alice', packet(1111, seq, key));
        router.onPublisherRtp('carol', packet(3333, seq, key));
      }
    };
    const fromCarol = () => sent.filter((s) => s.to === 'bob' && !isRtcpPacket(s.packet) && parseRtp(s.packet)!.ssrc === 2002).length;
    const rank = (id: string) => ['alice', 'carol'].indexOf(id);
    flow(1500);
    // 1 Mbps for two 800 kbps cameras: carol is paused for bob.
    expect(router.allocateDownlinks(rank)).toEqual([{ subscriberId: 'bob', paused: ['carol'], resumed: [] }]);
    // bob pauses and resumes carol himself (a tile scrolled away and back); meanwhile the budget grows.
    router.setPaused('bob', ['carol'], true);
    budget.setTotalBps(10_000_000);
    flow(1500);
    const changes = router.allocateDownlinks(rank);
    router.setPaused('bob', ['carol'], false);
    // The server no longer holds carol paused: it says so, and her video reaches bob again.
    expect(changes).toEqual([{ subscriberId: 'bob', paused: [], resumed: ['carol'] }]);
    const before = fromCarol();
    flow(1000);
    router.allocateDownlinks(rank);
    flow(1000);
    expect(fromCarol()).toBeGreaterThan(before + 500);
  });
});
