import { describe, expect, it } from 'vitest';
import { SequenceRewriter } from '../../src-main/server/media/video/sequence-rewriter.js';
import { LayerVerdict, SvcLayerSelector } from '../../src-main/server/media/video/svc-layer-selector.js';
import { Vp9Descriptor } from '../../src-main/server/media/video/vp9-descriptor.js';
import { descriptor, l3t3, type SvcPacket } from '../helpers/synthetic-vp9.js';

function run(selector: SvcLayerSelector, packets: SvcPacket[], onPacket?: (p: SvcPacket, i: number) => void): { p: SvcPacket; verdict: LayerVerdict }[] {
  const d = new Vp9Descriptor();
  return packets.map((p, i) => {
    onPacket?.(p, i);
    expect(d.read(p.payload, 0, p.payload.length)).toBe(true);
    return { p, verdict: selector.select(d, p.marker) };
  });
}

const forwarded = (results: { p: SvcPacket; verdict: LayerVerdict }[]) => results.filter((r) => r.verdict !== LayerVerdict.Drop);

describe('VP9 payload descriptor', () => {
  it('reads picture id, layer indices, switching bits and the scalability structure', () => {
    const d = new Vp9Descriptor();
    const key = descriptor({ picture: 300, sid: 0, tid: 0, keyframe: true, begins: true, ends: false, switchingUp: false, ss: 3 });
    expect(d.read(key, 0, key.length)).toBe(true);
    expect(d).toMatchObject({ pictureId: 300, spatialId: 0, temporalId: 0, beginsFrame: true, endsFrame: false, interPicturePredicted: false, ssSpatialLayers: 3, ssHasResolutions: true, beginsPicture: true });
    expect([...d.widths.slice(0, 3)]).toEqual([320, 640, 1280]);
    expect([...d.heights.slice(0, 3)]).toEqual([180, 360, 720]);
    expect(d.length).toBe(key.length - 2);
    const delta = descriptor({ picture: 301, sid: 2, tid: 2, keyframe: false, begins: false, ends: true, switchingUp: true });
    expect(d.read(delta, 0, delta.length)).toBe(true);
    expect(d).toMatchObject({ pictureId: 301, spatialId: 2, temporalId: 2, switchingUp: true, interLayerDependent: true, endsFrame: true, interPicturePredicted: true, ssSpatialLayers: 0, beginsPicture: false });
  });

  it('reads the descriptor where it lies in a larger buffer', () => {
    const inner = descriptor({ picture: 5, sid: 1, tid: 1, keyframe: false, begins: true, ends: true, switchingUp: false });
    const packet = Buffer.concat([Buffer.alloc(12, 0xff), inner]);
    const d = new Vp9Descriptor();
    expect(d.read(packet, 12, inner.length)).toBe(true);
    expect(d).toMatchObject({ pictureId: 5, spatialId: 1, temporalId: 1 });
  });

  it('calls every truncation of a descriptor malformed, and never throws on random bytes', () => {
    const d = new Vp9Descriptor();
    const key = descriptor({ picture: 300, sid: 0, tid: 0, keyframe: true, begins: true, ends: false, switchingUp: false, ss: 3 });
    const headerLength = key.length - 2;
    for (let n = 0; n < headerLength; n++) expect(d.read(key, 0, n)).toBe(false);
    expect(d.read(key, 0, key.length + 1)).toBe(false);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, random));
      expect(() => d.read(bytes, 0, bytes.length)).not.toThrow();
    }
  });
});

describe('SVC layer selection', () => {
  it('forwards every layer when all are wanted, with the publisher\'s own markers', () => {
    const packets = l3t3(8, { keyEvery: 100 });
    const results = run(new SvcLayerSelector(), packets);
    expect(forwarded(results)).toHaveLength(packets.length);
    expect(results.filter((r) => r.verdict === LayerVerdict.ForwardEndOfPicture).map((r) => r.p.seq)).toEqual(packets.filter((p) => p.marker).map((p) => p.seq));
  });

  it('the base layer only: spatial 0 of temporal-0 pictures, each ending a picture with the marker', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const results = forwarded(run(selector, l3t3(16, { keyEvery: 100 })));
    expect(new Set(results.map((r) => `${r.p.sid}/${r.p.tid}`))).toEqual(new Set(['0/0']));
    expect(results.map((r) => r.p.picture).filter((p, i, a) => a.indexOf(p) === i)).toEqual([0, 4, 8, 12]);
    // Each forwarded picture is two packets, the second carrying the marker the publisher put on spatial layer 2.
    expect(results.map((r) => r.verdict)).toEqual(Array(4).fill([LayerVerdict.Forward, LayerVerdict.ForwardEndOfPicture]).flat());
  });

  it('a middle layer: spatial 0-1 at temporal 0-1, the marker at the end of spatial layer 1', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(1, 1);
    const results = forwarded(run(selector, l3t3(8, { keyEvery: 100 })));
    expect(Math.max(...results.map((r) => r.p.sid))).toBe(1);
    expect(new Set(results.map((r) => r.p.tid))).toEqual(new Set([0, 1]));
    for (const r of results) expect(r.verdict === LayerVerdict.ForwardEndOfPicture).toBe(r.p.sid === 1 && r.p.seq % 2 === 1);
  });

  it('waits for nothing until the first keyframe, then starts on it', () => {
    const selector = new SvcLayerSelector();
    const packets = l3t3(12, { keyEvery: 6 }).filter((p) => p.picture >= 2);
    const results = run(selector, packets);
    expect(forwarded(results)[0]!.p).toMatchObject({ picture: 6, sid: 0, keyframe: true });
    expect(results.filter((r) => r.p.picture < 6).every((r) => r.verdict === LayerVerdict.Drop)).toBe(true);
  });

  it('goes down at the next picture, never within one; goes up spatially only at a keyframe, asking for one meanwhile', () => {
    const selector = new SvcLayerSelector();
    const packets = l3t3(20, { keyEvery: 12 });
    const results = run(selector, packets, (p) => {
      // Mid-picture 2 (after its spatial-1 frame began): down to the base layer.
      if (p.picture === 2 && p.sid === 1 && p.seq % 2 === 1) selector.setTarget(0, 2);
      if (p.picture === 5 && p.sid === 0 && p.seq % 2 === 0) selector.setTarget(2, 2);
    });
    const layersOf = (picture: number) => forwarded(results).filter((r) => r.p.picture === picture).map((r) => r.p.sid);
    expect(layersOf(2)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(layersOf(3)).toEqual([0, 0]);
    // Asked for all again at picture 5: its upper layers are predicted from frames never sent, so they wait for the keyframe at 12.
    expect(layersOf(5)).toEqual([0, 0]);
    expect(layersOf(11)).toEqual([0, 0]);
    expect(layersOf(12)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(layersOf(13)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('says it wants a keyframe only while a higher spatial layer it wants exists and has not started', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 2);
    const d = new Vp9Descriptor();
    const feed = (packets: SvcPacket[]) => packets.forEach((p) => d.read(p.payload, 0, p.payload.length) && selector.select(d, p.marker));
    feed(l3t3(4, { keyEvery: 100 }));
    expect(selector.wantsKeyframe).toBe(false);
    selector.setTarget(2, 2);
    expect(selector.wantsKeyframe).toBe(true);
    feed(l3t3(1, { keyEvery: 1, firstSeq: 2000 }));
    expect(selector.wantsKeyframe).toBe(false);
    expect(selector.currentSpatial).toBe(2);
    // A publisher sending one spatial layer (NScale's L1T3 with many cameras): nothing to wait for.
    const single = new SvcLayerSelector();
    single.setTarget(2, 2);
    const dd = new Vp9Descriptor();
    for (const p of l3t3(4, { keyEvery: 100, spatial: 1 })) if (dd.read(p.payload, 0, p.payload.length)) single.select(dd, p.marker);
    expect(single.currentSpatial).toBe(0);
    expect(single.wantsKeyframe).toBe(false);
  });

  it('goes up a temporal layer only at a switching-up point', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const packets = l3t3(12, { keyEvery: 100 });
    // Picture 5 (temporal 2) is not a switching point for this test.
    for (const p of packets) if (p.picture === 5) p.payload[3] = p.payload[3]! & ~0x10;
    const results = run(selector, packets, (p) => {
      if (p.picture === 4 && p.sid === 0 && p.seq % 2 === 0) selector.setTarget(0, 2);
    });
    const pictures = [...new Set(forwarded(results).map((r) => r.p.picture))];
    expect(pictures).toEqual([0, 4, 6, 7, 8, 9, 10, 11]);
  });

  it('a reordered first packet of an earlier picture changes nothing for the picture under way', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const packets = l3t3(8, { keyEvery: 100 });
    // Picture 3 (temporal 2, not taken) begins late: between the two base-layer packets of picture 4.
    const lateStart = packets.find((p) => p.picture === 3 && p.sid === 0 && p.seq % 2 === 0)!;
    const reordered = packets.filter((p) => p !== lateStart);
    const at = reordered.findIndex((p) => p.picture === 4) + 1;
    reordered.splice(at, 0, lateStart);
    const results = forwarded(run(selector, reordered));
    // Picture 4's base layer arrives whole, its end marked; picture 3 is still not forwarded.
    expect(results.filter((r) => r.p.picture === 4).map((r) => r.verdict)).toEqual([LayerVerdict.Forward, LayerVerdict.ForwardEndOfPicture]);
    expect(results.some((r) => r.p.picture === 3)).toBe(false);
  });

  it('does not start a higher spatial layer within a picture whose end it already marked', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 2);
    const packets = l3t3(6, { keyEvery: 100 });
    // Picture 3's spatial layer 1 is a sync frame (not inter-picture predicted): a switching point in itself.
    for (const p of packets) if (p.picture === 3 && p.sid === 1) p.payload[0] = p.payload[0]! & ~0x40;
    const results = run(selector, packets, (p) => {
      if (p.picture === 3 && p.sid === 0 && p.seq % 2 === 0) selector.setTarget(1, 2);
    });
    const picture3 = results.filter((r) => r.p.picture === 3 && r.verdict !== LayerVerdict.Drop);
    expect(picture3.map((r) => r.p.sid)).toEqual([0, 0]);
    expect(picture3.filter((r) => r.verdict === LayerVerdict.ForwardEndOfPicture)).toHaveLength(1);
  });

  it('a stream without layer indices passes untouched', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(0, 0);
    const d = new Vp9Descriptor();
    const plain = Buffer.from([0x88, 0xde, 0xad]);
    expect(d.read(plain, 0, plain.length)).toBe(true);
    expect(selector.select(d, false)).toBe(LayerVerdict.Forward);
    expect(selector.select(d, true)).toBe(LayerVerdict.ForwardEndOfPicture);
  });
});

describe('sequence numbers over dropped layers', () => {
  it('closes up the numbers of skipped packets: the subscriber sees no gap, and NACKs map back', () => {
    const selector = new SvcLayerSelector();
    selector.setTarget(1, 1);
    const rewriter = new SequenceRewriter(() => 0.5);
    const out: number[] = [];
    const sent = new Map<number, number>();
    for (const { p, verdict } of run(selector, l3t3(40, { keyEvery: 100, firstSeq: 65500 }))) {
      if (out.length === 0 && verdict !== LayerVerdict.Drop) rewriter.resync();
      if (verdict === LayerVerdict.Drop) rewriter.skip(p.seq);
      else {
        expect(rewriter.rewrite(p.seq, p.picture * 6000)).toBe(true);
        out.push(rewriter.sequenceNumber);
        sent.set(rewriter.sequenceNumber, p.seq);
      }
    }
    expect(out.length).toBeGreaterThan(40);
    for (let i = 1; i < out.length; i++) expect((out[i]! - out[i - 1]! + 0x10000) & 0xffff).toBe(1);
    for (const [o, i] of sent) expect(rewriter.incomingFor(o)).toBe(i);
  });

  it('a late packet from before a skip gets the number it was due', () => {
    const rewriter = new SequenceRewriter(() => 0);
    rewriter.resync();
    expect(rewriter.rewrite(100, 0)).toBe(true);
    const base = rewriter.sequenceNumber;
    // 101 is late; 102 is dropped on purpose; 103 closes up onto 102's number.
    rewriter.skip(102);
    expect(rewriter.rewrite(103, 0)).toBe(true);
    expect(rewriter.sequenceNumber).toBe(base + 2);
    expect(rewriter.rewrite(101, 0)).toBe(true);
    expect(rewriter.sequenceNumber).toBe(base + 1);
    expect(rewriter.rewrite(104, 0)).toBe(true);
    expect(rewriter.sequenceNumber).toBe(base + 3);
  });

  it('a late packet older than every remembered skip is dropped rather than given a number already used', () => {
    const rewriter = new SequenceRewriter(() => 0);
    rewriter.resync();
    expect(rewriter.rewrite(1, 0)).toBe(true);
    for (let s = 3; s < 3 + 200; s++) rewriter.skip(s);
    expect(rewriter.rewrite(2, 0)).toBe(false);
    expect(rewriter.rewrite(203, 0)).toBe(true);
  });
});
