import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The video both servers forward: a real VP8 clip (ffmpeg + libvpx, encoded once and
 * cached) or, where ffmpeg is missing, synthetic frames with real VP8 frame headers at
 * the same rate and size. 640x360, 15 fps, ~500 kbps, a keyframe every 2 s.
 */

export const CLIP_FPS = 15;
export const CLIP_KBPS = 500;
export const KEYFRAME_INTERVAL_FRAMES = 30;

export interface Vp8Frame { data: Buffer; keyframe: boolean }
export interface Vp8Clip { frames: Vp8Frame[]; source: 'libvpx' | 'synthetic'; description: string }

/** VP8 frame tag (RFC 6386 9.1): bit 0 of the first byte is 0 on a keyframe. */
export const isVp8Keyframe = (frame: Uint8Array): boolean => frame.length > 0 && (frame[0]! & 0x01) === 0;

/** Frames of an IVF file (32-byte file header, then a 12-byte header per frame). */
export function parseIvf(file: Buffer): Buffer[] {
  if (file.length < 32 || file.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames: Buffer[] = [];
  let offset = file.readUInt16LE(6);
  while (offset + 12 <= file.length) {
    const size = file.readUInt32LE(offset);
    offset += 12;
    if (offset + size > file.length) break;
    frames.push(file.subarray(offset, offset + size));
    offset += size;
  }
  return frames;
}

/** A keyframe or interframe of `size` bytes with a valid VP8 frame tag (and start code and dimensions on keyframes). */
export function syntheticVp8Frame(size: number, keyframe: boolean, seed: number): Buffer {
  const frame = Buffer.alloc(Math.max(size, 10));
  for (let i = 0; i < frame.length; i++) frame[i] = (Math.imul(seed + i, 2654435761) >>> 24) & 0xff;
  const firstPartition = Math.min(frame.length - 10, 0x7ffff);
  // Tag: key bit, version 0, show_frame 1, 19-bit first partition size.
  const tag = (keyframe ? 0 : 1) | (0 << 1) | (1 << 4) | (firstPartition << 5);
  frame[0] = tag & 0xff;
  frame[1] = (tag >> 8) & 0xff;
  frame[2] = (tag >> 16) & 0xff;
  if (keyframe) {
    frame.set([0x9d, 0x01, 0x2a], 3);
    frame.writeUInt16LE(640, 6);
    frame.writeUInt16LE(360, 8);
  }
  return frame;
}

export function syntheticClip(seconds = 20): Vp8Clip {
  const frameBytes = Math.round((CLIP_KBPS * 1000) / 8 / CLIP_FPS);
  const frames = Array.from({ length: seconds * CLIP_FPS }, (_, i) => {
    const keyframe = i % KEYFRAME_INTERVAL_FRAMES === 0;
    // Keyframes about 4x an interframe; interframes shrink so the average stays at the bitrate.
    const size = keyframe ? frameBytes * 4 : Math.round(frameBytes * (KEYFRAME_INTERVAL_FRAMES - 4) / (KEYFRAME_INTERVAL_FRAMES - 1));
    return { data: syntheticVp8Frame(size, keyframe, i), keyframe };
  });
  return { frames, source: 'synthetic', description: `synthetic VP8-framed payloads, ${CLIP_FPS} fps, ${CLIP_KBPS} kbps, keyframe every ${KEYFRAME_INTERVAL_FRAMES / CLIP_FPS} s (ffmpeg not found)` };
}

const CACHE_DIR = join('node_modules', '.cache', 'chorus-bench');

/** Encodes the clip with ffmpeg once (cached under node_modules/.cache); synthetic frames when ffmpeg is missing. */
export async function loadVp8Clip(): Promise<Vp8Clip> {
  const file = join(CACHE_DIR, `testsrc2-640x360-${CLIP_FPS}fps-${CLIP_KBPS}k.ivf`);
  try {
    await access(file);
  } catch {
    try {
      await mkdir(CACHE_DIR, { recursive: true });
      const gop = String(KEYFRAME_INTERVAL_FRAMES);
      await promisify(execFile)('ffmpeg', [
        '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${CLIP_FPS}`, '-t', '20',
        '-c:v', 'libvpx', '-b:v', `${CLIP_KBPS}k`, '-minrate', `${CLIP_KBPS}k`, '-maxrate', `${CLIP_KBPS}k`, '-g', gop, '-keyint_min', gop,
        '-deadline', 'realtime', '-cpu-used', '8', '-f', 'ivf', `${file}.tmp`,
      ]);
      await rename(`${file}.tmp`, file);
    } catch {
      return syntheticClip();
    }
  }
  const frames = parseIvf(await readFile(file)).map((data) => ({ data, keyframe: isVp8Keyframe(data) }));
  const bytes = frames.reduce((n, f) => n + f.data.length, 0);
  const kbps = Math.round((bytes * 8 * CLIP_FPS) / frames.length / 1000);
  return { frames, source: 'libvpx', description: `real VP8 (ffmpeg libvpx, testsrc2 640x360), ${CLIP_FPS} fps, ${kbps} kbps measured, keyframe every ${KEYFRAME_INTERVAL_FRAMES / CLIP_FPS} s` };
}

/**
 * RFC 7741 packetisation: a 4-byte payload descriptor (X, S on a frame's first packet,
 * partition 0; I with a 15-bit PictureID), as browsers send, then up to `mtu` bytes of the frame.
 */
export function packetizeVp8(frame: Buffer, pictureId: number, mtu = 1100): Buffer[] {
  const packets: Buffer[] = [];
  for (let offset = 0; offset < frame.length; offset += mtu) {
    const chunk = frame.subarray(offset, Math.min(frame.length, offset + mtu));
    const descriptor = Buffer.from([0x80 | (offset === 0 ? 0x10 : 0), 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
    packets.push(Buffer.concat([descriptor, chunk]));
  }
  return packets;
}
