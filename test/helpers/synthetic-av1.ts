/**
 * A synthetic AV1 L1T3 stream, packetized as libwebrtc does (the AV1 RTP payload format): one
 * frame OBU per temporal unit, with an extension header carrying its temporal layer; a keyframe's
 * first packet also carries the sequence header OBU (640x360), with a length, and sets N. Seen on the wire
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

/** Writes bit fields most significant first, as the AV1 specification's f(n). */
export class BitWriter {
  private readonly bits: number[] = [];
  put(value: number, n: number): this {
    for (let k = n - 1; k >= 0; k--) this.bits.push(Math.floor(value / 2 ** k) % 2);
    return this;
  }
  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) out.push(this.bits.slice(i, i + 8).reduce((byte, bit, k) => byte | (bit << (7 - k)), 0));
    return out;
  }
}

/**
 * A sequence header OBU's payload as libaom writes it for L1T3 (three operating points, no timing
 * info), announcing `width` x `height`; `timing` adds timing and decoder model info and initial
 * display delays, to exercise the fields a reader must step over.
 */
export function sequenceHeaderPayload(width: number, height: number, o: { timing?: boolean; reduced?: boolean } = {}): number[] {
  const w = new BitWriter().put(0, 3).put(0, 1).put(o.reduced ? 1 : 0, 1);
  if (o.reduced) {
    w.put(8, 5);
  } else {
    w.put(o.timing ? 1 : 0, 1);
    if (o.timing) {
      w.put(1, 32).put(90_000, 32).put(1, 1).put(0b00101, 5); // equal_picture_interval, then uvlc(4): 00101
      w.put(1, 1).put(9, 5).put(1, 32).put(31, 5).put(31, 5); // decoder_model_info, buffer delays of 10 bits
    }
    w.put(o.timing ? 1 : 0, 1); // initial_display_delay_present_flag
    w.put(2, 5); // three operating points
    for (const [idc, level] of [[0x107, 8], [0x103, 5], [0x101, 9]] as const) {
      w.put(idc, 12).put(level, 5);
      if (level > 7) w.put(0, 1);
      if (o.timing) w.put(1, 1).put(500, 10).put(300, 10).put(0, 1);
      if (o.timing) w.put(1, 1).put(3, 4);
    }
  }
  const bits = (n: number) => Math.max(1, Math.ceil(Math.log2(n)));
  w.put(bits(width) - 1, 4).put(bits(height) - 1, 4).put(width - 1, bits(width)).put(height - 1, bits(height));
  // What follows (frame id numbers, tools, color config) is not read.
  w.put(0b1010_1100, 8).put(0, 7);
  return w.bytes();
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
    const sequenceHeader = [0x08, ...sequenceHeaderPayload(640, 360)];
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
