import { describe, expect, it } from 'vitest';
import { DEFAULT_MEDIA_SETTINGS } from '../../src-main/server/defaults.js';
import { createLogger } from '../../src-main/server/logger.js';
import { buildNack, parseRtcp } from '../../src-main/server/media/rtp/rtcp.js';
import { buildRtp, isRtcpPacket, parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { EgressBudget } from '../../src-main/server/media/bwe/egress-budget.js';
import { VideoRouter } from '../../src-main/server/media/video/video-router.js';
import { Vp9Descriptor } from '../../src-main/server/media/video/vp9-descriptor.js';
import { recordingRouter } from '../helpers/recording-router.js';
import { l3t3, type SvcPacket } from '../helpers/synthetic-vp9.js';

/** The video router forwarding a VP9 L3T3 camera to subscribers that take different layers: no sockets, a hand-moved clock. */

const PUB = { mid: '1', codec: 'VP9' as const, payloadType: 98, ssrc: 1111, maxBitrateBps: 1_500_000, extensions: [] };
const rtpOf = (p: SvcPacket) => buildRtp({ payloadType: 98, sequenceNumber: p.seq, timestamp: (p.picture * 6000) >>> 0, ssrc: 1111, marker: p.marker, payload: p.payload });

function setup() {
  let now = 1_000;
  const { router, sent, layerChanges } = recordingRouter(() => now);
  const d = new Vp9Descriptor();
  const received = (to: string) =>
    sent
      .filter((s) => s.to === to && !isRtcpPacket(s.packet))
      .map((s) => {
        const info = parseRtp(s.packet)!;
        d.read(s.packet, info.payloadOffset, info.payloadLength);
        return { seq: info.sequenceNumber, marker: info.marker, sid: d.spatialId, tid: d.temporalId, picture: d.pictureId, ts: info.timestamp };
      });
  const plis = () => sent.filter((s) => s.to === 'alice' && isRtcpPacket(s.packet)).flatMap((s) => parseRtcp(s.packet)).filter((m) => m.kind === 'pli').length;
  const feed = (packets: SvcPacket[], msPerPicture = 66) => {
    let picture = packets[0]?.picture ?? 0;
    for (const p of packets) {
      if (p.picture !== picture) {
        now += msPerPicture;
        picture = p.picture;
      }
      router.onPublisherRtp('alice', rtpOf(p));
    }
  };
  const subscribe = (who: string, ssrc: number) => {
    router.setSubscriptions(who, [{ mid: '2', publisherId: 'alice', payloadType: 98, ssrc, extensions: [] }]);
    router.subscriberTrackOpened(who, '2');
  };
  return { router, sent, received, plis, feed, subscribe, layerChanges, advance: (ms: number) => (now += ms) };
}

const contiguous = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff));

describe('VideoRouter with an SVC (VP9 L3T3) publisher', () => {
  it('learns the layers and their resolutions, and tells its owner once', () => {
    const { router, feed, layerChanges } = setup();
    router.publish('alice', PUB);
    expect(router.layersOf('alice')).toBeUndefined();
    feed(l3t3(40, { keyEvery: 20 }));
    expect(router.layersOf('alice')).toEqual({ spatial: 3, temporal: 3, widths: [320, 640, 1280], heights: [180, 360, 720] });
    // Told when layering was first seen, when the temporal layers showed, not on every keyframe.
    expect(layerChanges.length).toBeGreaterThan(0);
    expect(layerChanges.length).toBeLessThanOrEqual(3);
    // Rates grow with the layers taken.
    const base = router.layerBitrateBps('alice', 0, 0);
    const middle = router.layerBitrateBps('alice', 1, 1);
    const all = router.layerBitrateBps('alice', 2, 2);
    expect(base).toBeGreaterThan(0);
    expect(middle).toBeGreaterThan(base);
    expect(all).toBeGreaterThan(middle);
    expect(all).toBe(router.streamBitrateBps('alice'));
  });

  it('sends each subscriber the layers it chose: no sequence gaps, the marker where its picture ends', () => {
    const { router, feed, received, subscribe } = setup();
    router.publish('alice', PUB);
    subscribe('bob', 2001);
    subscribe('carol', 3001);
    router.setLayerTarget('carol', 'alice', 0, 0);
    feed(l3t3(16, { keyEvery: 100 }));
    const bob = received('bob');
    const carol = received('carol');
    expect(bob).toHaveLength(16 * 6);
    expect(new Set(carol.map((p) => `${p.sid}/${p.tid}`))).toEqual(new Set(['0/0']));
    expect(carol).toHaveLength(4 * 2);
    expect(contiguous(bob.map((p) => p.seq))).toBe(true);
    expect(contiguous(carol.map((p) => p.seq))).toBe(true);
    expect(carol.filter((p) => p.marker)).toHaveLength(4);
    expect(bob.filter((p) => p.marker).every((p) => p.sid === 2)).toBe(true);
  });

  it('raises a subscriber to a higher spatial layer at the next keyframe, asking the publisher for one', () => {
    const { router, feed, received, subscribe, plis, advance } = setup();
    router.publish('alice', PUB);
    subscribe('carol', 3001);
    router.setLayerTarget('carol', 'alice', 0, 2);
    const stream = l3t3(44, { keyEvery: 40 });
    feed(stream.filter((p) => p.picture < 10));
    advance(2_000);
    const before = plis();
    router.setLayerTarget('carol', 'alice', 2, 2);
    expect(plis()).toBeGreaterThan(before);
    feed(stream.filter((p) => p.picture >= 10 && p.picture < 40));
    expect(new Set(received('carol').map((p) => p.sid))).toEqual(new Set([0]));
    feed(stream.filter((p) => p.picture >= 40));
    const after = received('carol').filter((p) => p.picture >= 40);
    expect(new Set(after.map((p) => p.sid))).toEqual(new Set([0, 1, 2]));
    expect(contiguous(received('carol').map((p) => p.seq))).toBe(true);
  });

  it('a layer chosen before the subscription exists applies when it starts', () => {
    const { router, feed, received, subscribe } = setup();
    router.publish('alice', PUB);
    router.setLayerTarget('dave', 'alice', 1, 2);
    subscribe('dave', 4001);
    feed(l3t3(8, { keyEvery: 100 }));
    expect(Math.max(...received('dave').map((p) => p.sid))).toBe(1);
  });

  it('answers a NACK with the packet and marker the subscriber was sent', () => {
    const { router, feed, received, subscribe, sent } = setup();
    router.publish('alice', PUB);
    subscribe('carol', 3001);
    router.setLayerTarget('carol', 'alice', 0, 2);
    feed(l3t3(4, { keyEvery: 100 }));
    const got = received('carol');
    const ending = got.find((p) => p.marker)!;
    const before = sent.length;
    router.onSubscriberRtcp('carol', '2', buildNack(3001, 3001, [ending.seq]));
    const resent = sent.slice(before).map((s) => parseRtp(s.packet)!);
    expect(resent).toHaveLength(1);
    expect(resent[0]).toMatchObject({ sequenceNumber: ending.seq, marker: true, timestamp: ending.ts });
  });
});

describe('VideoRouter choosing layers itself (server-side adaptation)', () => {
  it('climbs each subscriber up the layers only as far as its preference allows', () => {
    const { router, feed, received, subscribe } = setup();
    router.publish('alice', PUB);
    subscribe('carol', 3001);
    subscribe('bob', 2001);
    for (const who of ['carol', 'bob']) router.setServerAdaptation(who, true);
    const stream = l3t3(120, { keyEvery: 40 });
    feed(stream.filter((p) => p.picture < 40));
    // carol wants a small tile of alice: no more than her base spatial layer costs at its full frame rate.
    router.setPreferences('carol', new Map([['alice', { priority: 1, targetBps: router.layerBitrateBps('alice', 0, 2) + 1 }]]), true);
    router.allocateDownlinks(() => 0);
    const before = received('carol').length;
    feed(stream.filter((p) => p.picture >= 40));
    const after = received('carol').slice(before);
    expect(new Set(after.map((p) => p.sid))).toEqual(new Set([0]));
    expect(new Set(after.map((p) => p.tid))).toEqual(new Set([0, 1, 2]));
    // bob said nothing: every layer.
    expect(new Set(received('bob').filter((p) => p.picture >= 40).map((p) => p.sid))).toEqual(new Set([0, 1, 2]));
  });

  it('keeps its own choice when such a client subscribes again (it always names every layer)', () => {
    const { router, feed, received, subscribe } = setup();
    router.publish('alice', PUB);
    subscribe('carol', 3001);
    router.setServerAdaptation('carol', true);
    const stream = l3t3(80, { keyEvery: 40 });
    feed(stream.filter((p) => p.picture < 20));
    router.setPreferences('carol', new Map([['alice', { priority: 1, targetBps: router.layerBitrateBps('alice', 0, 2) + 1 }]]), true);
    router.allocateDownlinks(() => 0);
    // A renegotiation: the SUBSCRIBE names alice's base stream (every layer), and the subscription is made anew.
    router.setLayerTarget('carol', 'alice', 7, 7);
    router.setSubscriptions('carol', [{ mid: '4', publisherId: 'alice', payloadType: 98, ssrc: 3002, extensions: [] }]);
    router.subscriberTrackOpened('carol', '4');
    const before = received('carol').length;
    feed(stream.filter((p) => p.picture >= 20));
    expect(new Set(received('carol').slice(before).map((p) => p.sid))).toEqual(new Set([0]));
  });

  it('under a tight budget takes lower layers rather than pausing, and climbs back when it grows', () => {
    let now = 1_000;
    const budget = new EgressBudget(1);
    const sent: { to: string; packet: Buffer }[] = [];
    const router = new VideoRouter({ send: (to, _mid, packet) => (sent.push({ to, packet: Buffer.from(packet) }), true) }, DEFAULT_MEDIA_SETTINGS.video,
      createLogger({ level: 'error', write: () => undefined }), () => now, undefined, { budget, scope: 'm' });
    router.publish('alice', PUB);
    router.setSubscriptions('carol', [{ mid: '2', publisherId: 'alice', payloadType: 98, ssrc: 3001, extensions: [] }]);
    router.subscriberTrackOpened('carol', '2');
    router.setServerAdaptation('carol', true);
    const d = new Vp9Descriptor();
    const sids = (from: number) => new Set(sent.slice(from).filter((s) => !isRtcpPacket(s.packet)).map((s) => {
      const info = parseRtp(s.packet)!;
      d.read(s.packet, info.payloadOffset, info.payloadLength);
      return d.spatialId;
    }));
    const stream = l3t3(200, { keyEvery: 40 });
    const feedPictures = (from: number, to: number) => {
      for (const p of stream.filter((x) => x.picture >= from && x.picture < to)) {
        now = 1_000 + p.picture * 66;
        router.onPublisherRtp('alice', rtpOf(p));
      }
    };
    feedPictures(0, 40);
    // The host may send carol only what alice's two lower spatial layers cost: she gets those, unpaused.
    // (With 30% over it: climbing to a layer needs 20% to spare.)
    budget.setTotalBps(router.layerBitrateBps('alice', 1, 2) * 1.3);
    expect(router.allocateDownlinks(() => 0)).toEqual([]);
    let mark = sent.length;
    feedPictures(40, 80);
    expect(sids(mark)).toEqual(new Set([0, 1]));
    // Room for everything: the top layer comes back at the next keyframe.
    budget.setTotalBps(router.layerBitrateBps('alice', 2, 2) * 2);
    router.allocateDownlinks(() => 0);
    mark = sent.length;
    feedPictures(80, 130);
    expect(sids(mark)).toEqual(new Set([0, 1, 2]));
  });
});
