/**
 * Keyframe detection from RTP payloads, so a subscriber that joins mid-stream is
 * started on a keyframe rather than on undecodable deltas. Each function reads
 * the payload where it lies in the packet (offset, length): the forwarding path
 * calls them on every packet and must not slice.
 */

import type { VideoCodec } from './codecs.js';

/**
 * VP8 (RFC 7741): where the VP8 frame itself begins when the packet starts a frame (S set,
 * partition 0), past the payload descriptor; -1 otherwise or when the packet is too short.
 */
export function vp8FrameStart(packet: Buffer, offset = 0, length = packet.length - offset): number {
  if (length < 1) return -1;
  const end = offset + length;
  const b0 = packet[offset]!;
  const start = (b0 & 0x10) !== 0;
  const partition = b0 & 0x0f;
  if (!start || partition !== 0) return -1;
  let i = offset + 1;
  if (b0 & 0x80) {
    if (length < 2) return -1;
    const x = packet[offset + 1]!;
    i = offset + 2;
    if (x & 0x80) {
      if (i >= end) return -1;
      i += packet[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1;
    if (x & 0x30) i += 1;
  }
  return i < end ? i : -1;
}

/** VP8 (RFC 7741): true when the packet starts a key frame. */
export function isVp8KeyframeStart(packet: Buffer, offset = 0, length = packet.length - offset): boolean {
  const i = vp8FrameStart(packet, offset, length);
  // The VP8 frame tag's P bit is 0 for key frames.
  return i >= 0 && (packet[i]! & 0x01) === 0;
}

/** H.264 (RFC 6184): true for an IDR slice or SPS, directly, in a STAP-A, or at the start of an FU-A. */
export function isH264KeyframeStart(packet: Buffer, offset = 0, length = packet.length - offset): boolean {
  if (length < 1) return false;
  const end = offset + length;
  const type = packet[offset]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    let i = offset + 1;
    while (i + 2 < end) {
      const size = packet.readUInt16BE(i);
      if (size === 0 || i + 2 + size > end) return false;
      const inner = packet[i + 2]! & 0x1f;
      if (inner === 5 || inner === 7) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 28 && length >= 2) {
    const fu = packet[offset + 1]!;
    const inner = fu & 0x1f;
    return (fu & 0x80) !== 0 && (inner === 5 || inner === 7);
  }
  return false;
}

/**
 * VP9 (RFC 9628): true for the first packet (B) of a picture that is not
 * inter-picture predicted (P clear), on spatial layer 0 when layer indices are present.
 */
export function isVp9KeyframeStart(packet: Buffer, offset = 0, length = packet.length - offset): boolean {
  if (length < 1) return false;
  const b0 = packet[offset]!;
  const predicted = (b0 & 0x40) !== 0;
  const begins = (b0 & 0x08) !== 0;
  if (predicted || !begins) return false;
  if ((b0 & 0x20) === 0) return true;
  // Layer indices follow the picture id (1 or 2 bytes, by its M bit) when I is set.
  let i = offset + 1;
  if (b0 & 0x80) {
    if (i >= offset + length) return false;
    i += packet[i]! & 0x80 ? 2 : 1;
  }
  if (i >= offset + length) return false;
  return ((packet[i]! >> 1) & 0x07) === 0;
}

/** AV1 (the AV1 RTP payload format): the N bit of the aggregation header starts a new coded video sequence, a keyframe. */
export function isAv1KeyframeStart(packet: Buffer, offset = 0, length = packet.length - offset): boolean {
  return length >= 1 && (packet[offset]! & 0x08) !== 0;
}

export function isKeyframeStart(codec: VideoCodec, packet: Buffer, offset = 0, length = packet.length - offset): boolean {
  switch (codec) {
    case 'VP8':
      return isVp8KeyframeStart(packet, offset, length);
    case 'H264':
    case 'H264_HIGH':
      return isH264KeyframeStart(packet, offset, length);
    case 'VP9':
      return isVp9KeyframeStart(packet, offset, length);
    case 'AV1':
      return isAv1KeyframeStart(packet, offset, length);
    default: {
      const unreachable: never = codec;
      return unreachable;
    }
  }
}
