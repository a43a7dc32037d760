/**
 * A synthetic VP9 SVC stream (payload descriptors as libvpx writes them for L3T3 in
 * non-flexible mode), for tests of the layer selector and the router.
 */

/** One packet of a synthetic VP9 SVC stream, as a libvpx L3T3 encoder sends it (non-flexible mode). */
export interface SvcPacket {
  seq: number;
  picture: number;
  sid: number;
  tid: number;
  keyframe: boolean;
  marker: boolean;
  payload: Buffer;
}

const RESOLUTIONS = [
  [320, 180],
  [640, 360],
  [1280, 720],
] as const;

/** The payload descriptor of one packet: picture id (15 bits), layer indices, TL0PICIDX, and SS on a keyframe's first packet. */
export function descriptor(o: { picture: number; sid: number; tid: number; keyframe: boolean; begins: boolean; ends: boolean; switchingUp: boolean; ss?: number }): Buffer {
  const bytes: number[] = [];
  // A keyframe's upper spatial layers are predicted only from the layer below (P clear, D set).
  const p = o.keyframe ? 0 : 0x40;
  bytes.push(0x80 | p | 0x20 | (o.begins ? 0x08 : 0) | (o.ends ? 0x04 : 0) | (o.ss ? 0x02 : 0));
  bytes.push(0x80 | ((o.picture >> 8) & 0x7f), o.picture & 0xff);
  bytes.push((o.tid << 5) | (o.switchingUp ? 0x10 : 0) | (o.sid << 1) | (o.sid > 0 ? 1 : 0));
  bytes.push(o.picture & 0xff); // TL0PICIDX
  if (o.ss) {
    bytes.push(((o.ss - 1) << 5) | 0x10);
    for (let s = 0; s < o.ss; s++) {
      const [w, h] = RESOLUTIONS[s]!;
      bytes.push(w >> 8, w & 0xff, h >> 8, h & 0xff);
    }
  }
  bytes.push(0xde, 0xad); // VP9 payload
  return Buffer.from(bytes);
}

/** Pictures in the L3T3 temporal pattern 0,2,1,2; two packets per layer frame; a keyframe every `keyEvery` pictures. */
export function l3t3(pictures: number, o: { keyEvery?: number; firstSeq?: number; spatial?: number } = {}): SvcPacket[] {
  const spatial = o.spatial ?? 3;
  const out: SvcPacket[] = [];
  let seq = o.firstSeq ?? 1000;
  for (let picture = 0; picture < pictures; picture++) {
    const tid = [0, 2, 1, 2][picture % 4]!;
    const keyframe = picture % (o.keyEvery ?? 1_000_000) === 0;
    for (let sid = 0; sid < spatial; sid++) {
      for (let part = 0; part < 2; part++) {
        const begins = part === 0;
        const ends = part === 1;
        out.push({
          seq: seq++ & 0xffff,
          picture,
          sid,
          tid,
          keyframe,
          marker: ends && sid === spatial - 1,
          payload: descriptor({ picture, sid, tid, keyframe, begins, ends, switchingUp: tid > 0, ...(keyframe && sid === 0 && begins && { ss: spatial }) }),
        });
      }
    }
  }
  return out;
}
