/**
 * A synthetic AV1 L1T3 stream, packetized as libwebrtc does (the AV1 RTP payload format): one
 * frame OBU per temporal unit, with an extension header carrying its temporal layer; a keyframe's
 * first packet also carries the sequence header OBU, with a length, and sets N. Seen on the wire
 * from Chromium's content share with SVC on: aggregation headers 0x68 (keyframe), 0x10, 0x50, 0xd0, 0x90.
 */

export interface Av1Packet {
  seq: number;
  /** The frame's index in the stream (its RTP timestamp is frame * 6000). */
  frame: number;
  timestamp: number;
  tid: number;
  keyframe: boolean;
  marker: boolean;
  payload: Buffer;
}

/** The OBU header of a frame OBU (type 6) with its extension (X set, no size field), then the extension. */
export const frameObuHeader = (tid: number, sid = 0): number[] => [0x34, (tid << 5) | (sid << 3)];

/** A frame's packets: `parts` packets, the first starting the OBU, the rest continuing it. */
export function av1Frame(o: { frame: number; tid: number; keyframe: boolean; parts: number; firstSeq: number; sid?: number; extension?: boolean }): Av1Packet[] {
  const out: Av1Packet[] = [];
  for (let part = 0; part < o.parts; part++) {
    const first = part === 0;
    const last = part === o.parts - 1;
    const bytes: number[] = [];
    const sequenceHeader = [0x08, 0x00, 0x00, 0x00, 0x6a];
    const w = first && o.keyframe ? 2 : 1;
    bytes.push((first ? 0 : 0x80) | (last ? 0 : 0x40) | (w << 4) | (first && o.keyframe ? 0x08 : 0));
    if (first && o.keyframe) bytes.push(sequenceHeader.length, ...sequenceHeader);
    if (first) bytes.push(...(o.extension === false ? [0x30] : frameObuHeader(o.tid, o.sid ?? 0)));
    bytes.push(0xaa, 0xbb, 0xcc, part);
    out.push({ seq: (o.firstSeq + part) & 0xffff, frame: o.frame, timestamp: (o.frame * 6000) >>> 0, tid: o.tid, keyframe: o.keyframe, marker: last, payload: Buffer.from(bytes) });
  }
  return out;
}

/** Frames in the L1T3 pattern 0,2,1,2; `parts` packets each; a keyframe every `keyEvery` frames. */
export function l1t3(frames: number, o: { keyEvery?: number; firstSeq?: number; parts?: number; extension?: boolean } = {}): Av1Packet[] {
  const out: Av1Packet[] = [];
  let seq = o.firstSeq ?? 5000;
  for (let frame = 0; frame < frames; frame++) {
    const tid = [0, 2, 1, 2][frame % 4]!;
    const packets = av1Frame({ frame, tid, keyframe: frame % (o.keyEvery ?? 1_000_000) === 0, parts: o.parts ?? 3, firstSeq: seq, extension: o.extension });
    seq += packets.length;
    out.push(...packets);
  }
  return out;
}
