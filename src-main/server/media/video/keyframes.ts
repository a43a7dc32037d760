/**
 * Keyframe detection from RTP payloads, so a subscriber that joins mid-stream is
 * started on a keyframe rather than on undecodable deltas.
 */

export type VideoCodec = 'VP8' | 'H264';

/** VP8 (RFC 7741): true when the packet starts a key frame. */
export function isVp8KeyframeStart(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0]!;
  const start = (b0 & 0x10) !== 0;
  const partition = b0 & 0x0f;
  if (!start || partition !== 0) return false;
  let i = 1;
  if (b0 & 0x80) {
    if (payload.length < 2) return false;
    const x = payload[1]!;
    i = 2;
    if (x & 0x80) {
      if (i >= payload.length) return false;
      i += payload[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1;
    if (x & 0x30) i += 1;
  }
  if (i >= payload.length) return false;
  // The VP8 frame tag's P bit is 0 for key frames.
  return (payload[i]! & 0x01) === 0;
}

/** H.264 (RFC 6184): true for an IDR slice or SPS, directly, in a STAP-A, or at the start of an FU-A. */
export function isH264KeyframeStart(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    let i = 1;
    while (i + 2 < payload.length) {
      const size = payload.readUInt16BE(i);
      if (size === 0 || i + 2 + size > payload.length) return false;
      const inner = payload[i + 2]! & 0x1f;
      if (inner === 5 || inner === 7) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 28 && payload.length >= 2) {
    const fu = payload[1]!;
    const inner = fu & 0x1f;
    return (fu & 0x80) !== 0 && (inner === 5 || inner === 7);
  }
  return false;
}

export function isKeyframeStart(codec: VideoCodec, payload: Buffer): boolean {
  switch (codec) {
    case 'VP8':
      return isVp8KeyframeStart(payload);
    case 'H264':
      return isH264KeyframeStart(payload);
    default: {
      const unreachable: never = codec;
      return unreachable;
    }
  }
}
