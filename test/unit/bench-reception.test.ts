import { describe, expect, it } from 'vitest';
import { AudioReception, VideoReception } from '../../bench/constrained/reception.js';
import { packetizeVp8 } from '../../bench/load/vp8-clip.js';
import { buildRtp } from '../../src-main/server/media/rtp/rtp.js';

/** A VP8 keyframe of 640x360 (frame tag with P clear, start code, sizes) or a delta frame, `bytes` long. */
function vp8Frame(key: boolean, bytes: number): Buffer {
  const frame = Buffer.alloc(bytes, 0x55);
  frame[0] = key ? 0x10 : 0x11;
  if (key) {
    frame.set([0x9d, 0x01, 0x2a], 3);
    frame.writeUInt16LE(640, 6);
    frame.writeUInt16LE(360, 8);
  }
  return frame;
}

/** 15 fps, a keyframe every 30 frames, 3 packets a frame; `drop(frame, packet)` withholds packets. */
function play(seconds: number, drop: (frame: number, packet: number) => boolean = () => false) {
  let now = 0;
  const video = new VideoReception(() => now);
  let seq = 100;
  for (let f = 0; f < seconds * 15; f++) {
    now = f * (1000 / 15);
    const packets = packetizeVp8(vp8Frame(f % 30 === 0, 3000), f, 1100);
    packets.forEach((payload, i) => {
      const packet = buildRtp({ payloadType: 96, sequenceNumber: seq++ & 0xffff, timestamp: f * 6000, ssrc: 7, marker: i === packets.length - 1, payload });
      if (!drop(f, i)) video.onPacket(packet);
    });
    if (f === 14) video.startWindow();
  }
  now += 1000 / 15;
  return video.summary();
}

describe('what a bench viewer would see (bench/constrained/reception.ts)', () => {
  it('shows every frame of a clean stream, at the keyframes\' size, with no freeze', () => {
    const s = play(4);
    expect(s.fps).toBeCloseTo(15, 0);
    expect(s.playing).toBe(1);
    expect(s.frozenPct).toBe(0);
    expect(s.resolution).toBe('640x360');
  });

  it('shows nothing from a lost packet to the next keyframe, and counts that as frozen while packets keep coming', () => {
    // Frame 31 loses its middle packet: frames 31-59 cannot be decoded (2 s), 60 is a keyframe.
    const s = play(6, (f, i) => f === 31 && i === 1);
    // The window runs from frame 14 to the end of frame 89.
    const windowSeconds = (90 - 14) / 15;
    expect(Math.round(s.fps * windowSeconds)).toBe(6 * 15 - 15 - 29);
    expect(s.frozenPct).toBeGreaterThan(30);
    expect(s.frozenPct).toBeLessThan(45);
    // A frame whose last packet is lost is lost too (the next frame starts without its marker).
    const tail = play(6, (f, i) => f === 31 && i === 2);
    expect(Math.round(tail.fps * windowSeconds)).toBe(6 * 15 - 15 - 29);
  });

  it('does not call a stream that stopped (a paused video) frozen', () => {
    // Frames 30-59 never arrive at all; the stream comes back on the keyframe at 60.
    const s = play(6, (f) => f >= 30 && f < 60);
    expect(s.frozenPct).toBe(0);
    expect(Math.round(s.fps * ((90 - 14) / 15))).toBe(6 * 15 - 15 - 30);
  });

  it('counts audio loss from sequence numbers, across a wrap', () => {
    const audio = new AudioReception();
    for (let i = 0; i < 200; i++) {
      if (i % 10 === 3) continue;
      audio.onPacket(buildRtp({ payloadType: 111, sequenceNumber: (65500 + i) & 0xffff, timestamp: i * 320, ssrc: 9, payload: Buffer.alloc(20) }));
    }
    expect(audio.lossPct()).toBeCloseTo(10, 0);
  });
});
