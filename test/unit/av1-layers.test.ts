import { describe, expect, it } from 'vitest';
import { buildRtp, isRtcpPacket, parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { Av1Descriptor } from '../../src-main/server/media/video/av1-descriptor.js';
import { StreamLayers } from '../../src-main/server/media/video/stream-layers.js';
import { LayerVerdict, SvcLayerSelector } from '../../src-main/server/media/video/svc-layer-selector.js';
import { recordingRouter } from '../helpers/recording-router.js';
import { av1Frame, l1t3, sequenceHeaderPayload, type Av1Packet } from '../helpers/synthetic-av1.js';
import { Av1SequenceHeader } from '../../src-main/server/media/video/av1-sequence-header.js';

/** AV1 temporal layers (the SDK's content share with SVC on: L1T3): read, counted, and thinned per subscriber. */

const read = (d: Av1Descriptor, p: Av1Packet) => d.read(p.payload, 0, p.payload.length, p.timestamp, p.marker);

function select(selector: SvcLayerSelector, packets: Av1Packet[], onPacket?: (p: Av1Packet) => void): Av1Packet[] {
  const d = new Av1Descriptor();
  return packets.filter((p) => {
    onPacket?.(p);
    expect(read(d, p)).toBe(true);
    const verdict = selector.select(d, p.marker);
    if (verdict !== LayerVerdict.Drop) expect(verdict === LayerVerdict.ForwardEndOfPicture).toBe(p.marker);
    return verdict !== LayerVerdict.Drop;
  });
}

/** The frames a subscriber was sent, each whole (every packet of it, in order), in frame order. */
function wholeFrames(packets: Av1Packet[]): { frame: number; tid: number }[] {
  const frames: { frame: number; tid: number }[] = [];
  for (const p of packets) {
    if (frames.at(-1)?.frame !== p.frame) frames.push({ frame: p.frame, tid: p.tid });
  }
  for (const f of frames) expect(packets.filter((p) => p.frame === f.frame).map((p) => p.payload.at(-1))).toEqual([0, 1, 2]);
  return frames;
}

describe('AV1 layer descriptor', () => {
  it('reads the temporal layer from the OBU extension, and gives it to the packets that continue the frame', () => {
    const d = new Av1Descriptor();
    const seen = l1t3(8, { keyEvery: 4 }).map((p) => (read(d, p), { tid: d.temporalId, begins: d.beginsPicture, ends: d.endsFrame, key: !d.interPicturePredicted && d.beginsPicture, picture: d.pictureId, layered: d.hasLayerIndices, sync: d.temporalSyncPoint }));
    expect(seen.map((s) => s.tid)).toEqual([0, 0, 0, 2, 2, 2, 1, 1, 1, 2, 2, 2, 0, 0, 0, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
    expect(seen.every((s) => s.layered)).toBe(true);
    expect(seen.filter((s) => s.begins)).toHaveLength(8);
    expect(seen.filter((s) => s.ends)).toHaveLength(8);
    expect(seen.filter((s) => s.key).map((s) => s.picture)).toEqual([0, 4]);
    expect(seen.map((s) => s.picture)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].flatMap((f) => [f, f, f]));
    // Every base-layer frame is where higher layers may start.
    expect(seen.filter((s) => s.sync).map((s) => s.picture)).toEqual([0, 0, 0, 4, 4, 4]);
  });

  it('a late packet takes its own frame\'s picture and layer; one older than any remembered is known to be nothing', () => {
    const d = new Av1Descriptor();
    const packets = l1t3(40);
    const late = packets[4]!; // frame 1 (T2), second packet
    for (const p of packets.slice(0, 12)) read(d, p);
    read(d, late);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: true, temporalId: 2, pictureId: 1, beginsPicture: false });
    for (const p of packets.slice(12)) read(d, p);
    read(d, late);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: false });
  });

  it('the first packet to arrive of a frame decides its layer: after a lost or late first packet the frame stays unknown, and is no picture start', () => {
    const d = new Av1Descriptor();
    const [first, second, third] = av1Frame({ frame: 3, tid: 2, keyframe: false, parts: 3, firstSeq: 10 });
    read(d, second!);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: false, beginsPicture: false });
    read(d, first!);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: false, beginsPicture: false });
    read(d, third!);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: false });
    // A keyframe's first packet (N) is on the base layer even when it starts no frame OBU (a sequence header alone).
    const key = Buffer.from([0x18, 0x08, 0x00, 0x00, 0x00]);
    expect(d.read(key, 0, key.length, 4 * 6000, false)).toBe(true);
    expect(d).toMatchObject({ hasLayerIndices: true, temporalId: 0, beginsPicture: true, interPicturePredicted: false });
  });

  it('a frame OBU without an extension means one layer; an OBU header whose extension byte is in the next packet means not known yet', () => {
    const d = new Av1Descriptor();
    const single = Buffer.from([0x10, 0x30, 0xaa]);
    expect(d.read(single, 0, single.length, 6000, true)).toBe(true);
    expect(d).toMatchObject({ hasLayerIndices: false, beginsPicture: true });
    // W = 1, Y set: the only element is the frame OBU's header byte, its extension continues in the next packet.
    const split = Buffer.from([0x50, 0x34]);
    expect(d.read(split, 0, split.length, 12_000, false)).toBe(true);
    expect(d).toMatchObject({ valid: true, hasLayerIndices: false, beginsPicture: false });
    // Not continued, the same bytes are malformed.
    const cut = Buffer.from([0x10, 0x34]);
    expect(d.read(cut, 0, cut.length, 18_000, true)).toBe(false);
  });

  it('starts over when the timestamps jump back (a publisher restarting on the same SSRC), at once on a keyframe', () => {
    const d = new Av1Descriptor();
    for (const p of l1t3(8)) read(d, p);
    // Far behind (over 10 s), not among the recent frames: a new picture.
    const [back] = av1Frame({ frame: 0, tid: 1, keyframe: false, parts: 1, firstSeq: 100 });
    expect(d.read(back!.payload, 0, back!.payload.length, 8 * 6000 - 1_000_000, true)).toBe(true);
    expect(d).toMatchObject({ hasLayerIndices: true, temporalId: 1, beginsPicture: true });
    // Behind by less, but a keyframe: a new picture too.
    const [key] = av1Frame({ frame: 0, tid: 0, keyframe: true, parts: 1, firstSeq: 101 });
    expect(d.read(key!.payload, 0, key!.payload.length, 8 * 6000 - 1_000_000 - 300_000, true)).toBe(true);
    expect(d).toMatchObject({ hasLayerIndices: true, beginsPicture: true, interPicturePredicted: false });
    // And what follows it is newer than it.
    const [next] = av1Frame({ frame: 1, tid: 2, keyframe: false, parts: 1, firstSeq: 102 });
    expect(d.read(next!.payload, 0, next!.payload.length, 8 * 6000 - 1_000_000 - 300_000 + 6000, true)).toBe(true);
    expect(d).toMatchObject({ temporalId: 2, beginsPicture: true });
  });

  it('finds the extension past OBUs without one (a keyframe\'s sequence header), and elements of every length form', () => {
    const d = new Av1Descriptor();
    // W = 0: every element has a length; a 2-byte leb128 length first (a 130-byte padding OBU, type 15, no extension).
    const padding = [0x78, ...new Array<number>(129).fill(0)];
    const payload = Buffer.from([0x00, 0x82, 0x01, ...padding, 0x03, 0x34, 0x20, 0x11]);
    expect(d.read(payload, 0, payload.length, 90_000, true)).toBe(true);
    expect(d).toMatchObject({ hasLayerIndices: true, temporalId: 1, spatialId: 0 });
  });

  it('gives the frame size from a keyframe\'s sequence header, whatever fields precede it; a cut-short header gives none', () => {
    const header = new Av1SequenceHeader();
    for (const [w, h, o] of [[640, 360, {}], [1280, 720, { timing: true }], [1920, 1080, { reduced: true }], [1, 1, {}], [65_536, 2160, {}]] as const) {
      const bytes = Buffer.from(sequenceHeaderPayload(w, h, o));
      expect(header.read(bytes, 0, bytes.length)).toBe(true);
      expect([header.width, header.height]).toEqual([w, h]);
    }
    const bytes = Buffer.from(sequenceHeaderPayload(1280, 720, { timing: true }));
    // The size ends 15 bits before the end (the fields after it are not read): any shorter cut loses it.
    for (let n = 0; n < bytes.length - 2; n++) expect(header.read(bytes, 0, n)).toBe(false);
    // In a packet: the descriptor reports it as a one-layer structure with its size, on the keyframe's first packet only.
    const d = new Av1Descriptor();
    const [first, second] = av1Frame({ frame: 0, tid: 0, keyframe: true, parts: 2, firstSeq: 1 });
    read(d, first!);
    expect(d).toMatchObject({ ssSpatialLayers: 1, ssHasResolutions: true, hasLayerIndices: true });
    expect([d.widths[0], d.heights[0]]).toEqual([640, 360]);
    read(d, second!);
    expect(d.ssSpatialLayers).toBe(0);
  });

  it('calls malformed payloads malformed, and never throws on random bytes', () => {
    const d = new Av1Descriptor();
    expect(d.read(Buffer.alloc(0), 0, 0, 0, false)).toBe(false);
    // A length running past the end; an extension flag with no extension byte; the forbidden bit.
    for (const bytes of [[0x00, 0x09, 0x34, 0x20], [0x10, 0x34], [0x10, 0xb4, 0x20], [0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]]) {
      expect(d.read(Buffer.from(bytes), 0, bytes.length, 1, false)).toBe(false);
      expect(d.valid).toBe(false);
    }
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, random));
      expect(() => d.read(bytes, 0, bytes.length, i * 3000, (i & 1) === 0)).not.toThrow();
    }
  });

  it('a stream that shows a spatial layer is one layer from then on (its layer frames\' ends are not in RTP)', () => {
    const d = new Av1Descriptor();
    read(d, av1Frame({ frame: 0, tid: 0, keyframe: true, parts: 1, firstSeq: 1 })[0]!);
    expect(d.hasLayerIndices).toBe(true);
    read(d, av1Frame({ frame: 1, tid: 0, keyframe: false, parts: 1, firstSeq: 2, sid: 1 })[0]!);
    expect(d.hasLayerIndices).toBe(false);
    read(d, av1Frame({ frame: 2, tid: 1, keyframe: false, parts: 1, firstSeq: 3 })[0]!);
    expect(d.hasLayerIndices).toBe(false);
  });
});

describe('AV1 temporal layer selection', () => {
  it('the base layer only: every packet of each T0 frame, none of the others, with the publisher\'s markers', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const frames = wholeFrames(select(selector, l1t3(16, { keyEvery: 8 })));
    expect(frames.map((f) => f.frame)).toEqual([0, 4, 8, 12]);
  });

  it('T0 and T1: half the frames', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 1);
    expect(wholeFrames(select(selector, l1t3(12, { keyEvery: 100 }))).map((f) => f.tid)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('goes down at the next frame, and up only at a base-layer frame', () => {
    const selector = new SvcLayerSelector();
    const packets = l1t3(24, { keyEvery: 100 });
    const sent = select(selector, packets, (p) => {
      if (p.seq === packets.find((q) => q.frame === 5)!.seq) selector.setTarget(0, 0);
      if (p.seq === packets.find((q) => q.frame === 13)!.seq) selector.setTarget(7, 7);
    });
    const frames = wholeFrames(sent).map((f) => f.frame);
    // All up to frame 4; from 5 only T0 (8, 12); the target rises at 13, but T1/T2 resume only after the next T0 (16).
    expect(frames).toEqual([0, 1, 2, 3, 4, 8, 12, 16, 17, 18, 19, 20, 21, 22, 23]);
  });

  it('a base-layer frame whose first packet comes last is forwarded whole to a base-layer subscriber', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const packets = l1t3(12, { keyEvery: 100 });
    const frame4 = packets.filter((p) => p.frame === 4);
    const reordered = [...packets.filter((p) => p.frame < 4), frame4[1]!, frame4[2]!, frame4[0]!, ...packets.filter((p) => p.frame > 4)];
    const sent = select(selector, reordered);
    expect(sent.filter((p) => p.frame === 4)).toHaveLength(3);
    expect([...new Set(sent.map((p) => p.frame))]).toEqual([0, 4, 8]);
  });

  it('a frame of unknown layer (its first packet lost) is forwarded: dropping a base frame would break the rest', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const packets = l1t3(9, { keyEvery: 100 }).filter((p) => !(p.frame === 4 && p.payload.at(-1) === 0));
    const sent = select(selector, packets);
    expect([...new Set(sent.map((p) => p.frame))]).toEqual([0, 4, 8]);
  });
});

describe('AV1 stream layers', () => {
  it('counts L1T3 as one spatial and three temporal layers with their rates; a keyframe without extensions (L1T1) makes it one layer again', () => {
    const layers = new StreamLayers(1_000, 100);
    const d = new Av1Descriptor();
    let now = 0;
    let changes = 0;
    for (const p of l1t3(32, { keyEvery: 16 })) {
      read(d, p);
      if (p.payload.at(-1) === 0) now += 66;
      if (layers.observe(d, p.payload.length, now)) changes++;
    }
    expect(layers.structure()).toEqual({ spatial: 1, temporal: 3, widths: [640], heights: [360] });
    expect(changes).toBeGreaterThan(0);
    const t0 = layers.bitrateBps(0, 0, now);
    expect(t0).toBeGreaterThan(0);
    expect(layers.bitrateBps(0, 1, now)).toBeGreaterThan(t0);
    expect(layers.bitrateBps(0, 2, now)).toBeGreaterThan(layers.bitrateBps(0, 1, now));
    // A keyframe whose first packet holds only its sequence header still has layers (it is on the base layer).
    const headerOnly = Buffer.from([0x18, 0x08, 0x00, 0x00, 0x00]);
    d.read(headerOnly, 0, headerOnly.length, 32 * 6000, false);
    expect(layers.observe(d, headerOnly.length, now)).toBe(false);
    expect(layers.layered).toBe(true);
    const [key] = av1Frame({ frame: 33, tid: 0, keyframe: true, parts: 1, firstSeq: 9000, extension: false });
    read(d, key!);
    expect(layers.observe(d, key!.payload.length, now)).toBe(true);
    expect(layers.layered).toBe(false);
  });
});

describe('VideoRouter with an AV1 L1T3 publisher', () => {
  it('sends one subscriber the base layer and another every frame, each with contiguous sequence numbers', () => {
    let now = 1_000;
    const { router, sent, layerChanges } = recordingRouter(() => now);
    router.publish('alice#content', { mid: '3', codec: 'AV1', payloadType: 45, ssrc: 4444, maxBitrateBps: 1_500_000, extensions: [] });
    for (const [who, ssrc] of [['bob', 2001], ['carol', 3001]] as const) {
      router.setSubscriptions(who, [{ mid: '2', publisherId: 'alice#content', payloadType: 45, ssrc, extensions: [] }]);
      router.subscriberTrackOpened(who, '2');
    }
    router.setLayerTarget('bob', 'alice#content', 0, 0);
    for (const p of l1t3(40, { keyEvery: 20 })) {
      if (p.payload.at(-1) === 0) now += 66;
      router.onPublisherRtp('alice#content', buildRtp({ payloadType: 45, sequenceNumber: p.seq, timestamp: p.timestamp, ssrc: 4444, marker: p.marker, payload: p.payload }));
    }
    expect(router.layersOf('alice#content')).toEqual({ spatial: 1, temporal: 3, widths: [640], heights: [360] });
    expect(layerChanges.length).toBeGreaterThan(0);
    const received = (to: string) => sent.filter((s) => s.to === to && !isRtcpPacket(s.packet)).map((s) => parseRtp(s.packet)!);
    const contiguous = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === ((seqs[i - 1]! + 1) & 0xffff));
    const bob = received('bob');
    const carol = received('carol');
    expect(new Set(carol.map((r) => r.timestamp)).size).toBe(40);
    expect(new Set(bob.map((r) => r.timestamp)).size).toBe(10);
    expect(bob).toHaveLength(30);
    expect(contiguous(bob.map((r) => r.sequenceNumber))).toBe(true);
    expect(contiguous(carol.map((r) => r.sequenceNumber))).toBe(true);
    expect(bob.filter((r) => r.marker)).toHaveLength(10);
  });
});
