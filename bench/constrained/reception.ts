import { RtpHeader } from '../../src-main/server/media/rtp/rtp.js';
import { isVp8KeyframeStart, vp8FrameStart } from '../../src-main/server/media/video/keyframes.js';

/**
 * What a viewer would see and hear, judged from the RTP it receives (no decoder; the same rules
 * for every server). Video is VP8 as the bench's clip packetises it (RFC 7741). The viewer does not
 * ask for retransmissions or keyframes, so a frame with a lost packet breaks the picture until the
 * next keyframe, as a decoder without NACK would: frames in between are not shown.
 */

/** A gap between shown frames longer than this, while packets still arrive, is a freeze. */
export const FREEZE_MS = 500;
/** A stream that got no packet for this long is stopped or paused, not frozen. */
export const SILENT_MS = 1000;
/** A video counts as playing at two thirds of the clip's 15 fps. */
export const PLAYING_FPS = 10;

interface VideoStream {
  packets: number;
  bytes: number;
  lastSeq: number;
  frameTimestamp: number;
  /** The current frame's first packet arrived, and nothing is missing since. */
  frameWhole: boolean;
  /** The current frame is a keyframe of this size (read from its first packet), or undefined. */
  frameKey: { width: number; height: number } | undefined;
  /** A frame was lost since the last keyframe: nothing decodes until the next one. */
  broken: boolean;
  shown: number;
  lastPacketAt: number;
  /** Since when no frame has been shown while packets arrive. */
  freezeFrom: number;
  frozenMs: number;
  width: number;
  height: number;
}

export interface VideoSummary {
  /** Video received, kbit/s. */
  kbps: number;
  /** Frames shown per second, summed over every video. */
  fps: number;
  /** Videos that got any packet in the window. */
  receiving: number;
  /** Videos shown at PLAYING_FPS or more. */
  playing: number;
  /** Of the receiving videos' time, the share frozen (%). */
  frozenPct: number;
  /** The size shown most (from keyframes), or '-' when nothing was shown. */
  resolution: string;
}

export class VideoReception {
  private readonly streams = new Map<number, VideoStream>();
  private readonly header = new RtpHeader();
  private windowStart = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  onPacket(packet: Buffer): void {
    const h = this.header;
    if (!h.read(packet)) return;
    let s = this.streams.get(h.ssrc);
    if (h.payloadLength < 1) {
      // Padding-only (a server probing the link): not video, but it takes a sequence number.
      if (s && s.lastSeq >= 0 && h.sequenceNumber === ((s.lastSeq + 1) & 0xffff)) s.lastSeq = h.sequenceNumber;
      return;
    }
    const at = this.now();
    if (!s) {
      s = { packets: 0, bytes: 0, lastSeq: -1, frameTimestamp: -1, frameWhole: false, frameKey: undefined, broken: true, shown: 0, lastPacketAt: at, freezeFrom: at, frozenMs: 0, width: 0, height: 0 };
      this.streams.set(h.ssrc, s);
    }
    s.packets++;
    s.bytes += packet.length;
    if (at - s.lastPacketAt > SILENT_MS) s.freezeFrom = at;
    s.lastPacketAt = at;
    const inOrder = s.lastSeq < 0 || h.sequenceNumber === ((s.lastSeq + 1) & 0xffff);
    s.lastSeq = h.sequenceNumber;
    const payload = h.payloadOffset;
    const first = (packet[payload]! & 0x10) !== 0 && (packet[payload]! & 0x0f) === 0;
    if (h.timestamp !== s.frameTimestamp) {
      // A new frame began before the last one was complete: the last one is lost.
      if (s.frameTimestamp >= 0) s.broken = true;
      s.frameTimestamp = h.timestamp;
      // Packets missing before a frame's first packet belong to earlier frames: this one may still be
      // whole (and if it is a keyframe, it repairs the picture), but the frames it refers to are gone.
      s.frameWhole = first;
      s.frameKey = first ? keyframeSize(packet, payload, h.payloadLength) : undefined;
      if (!inOrder) s.broken = true;
    } else if (!inOrder) {
      s.frameWhole = false;
    }
    if (!h.marker) return;
    const wasWhole = s.frameWhole;
    s.frameWhole = false;
    s.frameTimestamp = -1;
    if (!wasWhole) {
      s.broken = true;
      return;
    }
    const size = s.frameKey;
    if (size) {
      s.broken = false;
      s.width = size.width;
      s.height = size.height;
    }
    if (s.broken) return;
    s.shown++;
    if (at - s.freezeFrom > FREEZE_MS) s.frozenMs += at - s.freezeFrom;
    s.freezeFrom = at;
  }

  /** Starts the measured window: counts from here. */
  startWindow(): void {
    this.windowStart = this.now();
    for (const s of this.streams.values()) {
      s.packets = 0;
      s.bytes = 0;
      s.shown = 0;
      s.frozenMs = 0;
      s.freezeFrom = Math.max(s.freezeFrom, this.windowStart);
    }
  }

  summary(): VideoSummary {
    const at = this.now();
    const seconds = Math.max(0.001, (at - this.windowStart) / 1000);
    let bytes = 0;
    let shown = 0;
    let receiving = 0;
    let playing = 0;
    let frozen = 0;
    const sizes = new Map<string, number>();
    for (const s of this.streams.values()) {
      bytes += s.bytes;
      shown += s.shown;
      if (s.packets === 0) continue;
      receiving++;
      if (s.shown / seconds >= PLAYING_FPS) playing++;
      // A freeze still going on at the end of the window counts too.
      const trailing = at - s.lastPacketAt < SILENT_MS && at - s.freezeFrom > FREEZE_MS ? at - s.freezeFrom : 0;
      frozen += Math.min(seconds * 1000, s.frozenMs + trailing);
      if (s.shown > 0 && s.width > 0) sizes.set(`${s.width}x${s.height}`, (sizes.get(`${s.width}x${s.height}`) ?? 0) + s.shown);
    }
    const resolution = [...sizes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
    return {
      kbps: (bytes * 8) / 1000 / seconds,
      fps: shown / seconds,
      receiving,
      playing,
      frozenPct: receiving > 0 ? (100 * frozen) / (receiving * seconds * 1000) : 0,
      resolution,
    };
  }
}

/** Width and height of a VP8 keyframe starting in this packet (RFC 6386 9.1), if it is one. */
function keyframeSize(packet: Buffer, payload: number, length: number): { width: number; height: number } | undefined {
  if (!isVp8KeyframeStart(packet, payload, length)) return undefined;
  // After the 3-byte frame tag: the start code 9d 01 2a, then two 14-bit sizes.
  const i = vp8FrameStart(packet, payload, length);
  if (i + 10 > payload + length || packet[i + 3] !== 0x9d || packet[i + 4] !== 0x01 || packet[i + 5] !== 0x2a) return undefined;
  return { width: packet.readUInt16LE(i + 6) & 0x3fff, height: packet.readUInt16LE(i + 8) & 0x3fff };
}

/** Loss on the mixed-audio stream, from its sequence numbers. */
export class AudioReception {
  private readonly header = new RtpHeader();
  private first = -1;
  private highest = -1;
  private cycles = 0;
  private received = 0;

  onPacket(packet: Buffer): void {
    if (!this.header.read(packet)) return;
    const seq = this.header.sequenceNumber;
    this.received++;
    if (this.first < 0) {
      this.first = seq;
      this.highest = seq;
      return;
    }
    const delta = (seq - (this.highest & 0xffff)) & 0xffff;
    if (delta > 0 && delta < 0x8000) {
      if ((this.highest & 0xffff) + delta > 0xffff) this.cycles += 0x10000;
      this.highest = this.cycles + seq;
    }
  }

  /** Starts the measured window. */
  startWindow(): void {
    this.first = -1;
    this.highest = -1;
    this.cycles = 0;
    this.received = 0;
  }

  /** Packets lost in the window (%), or null when none arrived. */
  lossPct(): number | null {
    if (this.first < 0) return null;
    const expected = this.highest - this.first + 1;
    return Math.max(0, (100 * (expected - this.received)) / expected);
  }
}
