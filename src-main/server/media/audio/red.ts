/**
 * RFC 2198 audio redundancy, as Chrome sends Opus under `audio/red`: each packet
 * carries up to a few earlier 20 ms frames before its own, so a frame lost on
 * the way can be taken from the next packet instead of being concealed.
 *
 * Header: one 4-byte header per redundant block (F=1, payload type, 14-bit
 * timestamp offset, 10-bit length), then a 1-byte header (F=0, payload type)
 * for the primary block; the blocks' data follow in the same order.
 */

/** Chrome sends at most 2 redundant frames; more are refused as malformed. */
export const MAX_RED_BLOCKS = 8;
/** An Opus frame of 20 ms at the RTP clock of 48 kHz. */
export const OPUS_FRAME_TICKS = 960;

/**
 * A parsed RED payload, reused from packet to packet: the parser allocates
 * nothing, and the blocks are offsets into the packet the caller holds.
 */
export class RedPayload {
  /** Redundant blocks, oldest first. */
  count = 0;
  readonly framesBack = new Int32Array(MAX_RED_BLOCKS);
  readonly offsets = new Int32Array(MAX_RED_BLOCKS);
  readonly lengths = new Int32Array(MAX_RED_BLOCKS);
  primaryOffset = 0;
  primaryLength = 0;
  primaryPayloadType = 0;

  /**
   * Reads `packet[start, start + length)`. False for a malformed payload (then
   * nothing in it may be used). A redundant block whose timestamp offset is not a
   * whole number of 20 ms frames, or is empty, is left out rather than guessed at.
   */
  read(packet: Uint8Array, start: number, length: number, redundantPayloadType: number): boolean {
    const end = start + length;
    let pos = start;
    let blocks = 0;
    let dataBytes = 0;
    this.count = 0;
    for (;;) {
      if (pos >= end) return false;
      const first = packet[pos]!;
      if ((first & 0x80) === 0) {
        this.primaryPayloadType = first & 0x7f;
        pos += 1;
        break;
      }
      if (pos + 4 > end || blocks === MAX_RED_BLOCKS) return false;
      const offset = (packet[pos + 1]! << 6) | (packet[pos + 2]! >> 2);
      const blockLength = ((packet[pos + 2]! & 0x03) << 8) | packet[pos + 3]!;
      // Offsets double as lengths until the data start is known.
      this.framesBack[blocks] = (first & 0x7f) === redundantPayloadType && offset % OPUS_FRAME_TICKS === 0 ? offset / OPUS_FRAME_TICKS : 0;
      this.lengths[blocks] = blockLength;
      dataBytes += blockLength;
      blocks++;
      pos += 4;
    }
    if (pos + dataBytes > end) return false;
    let data = pos;
    for (let i = 0; i < blocks; i++) {
      const blockLength = this.lengths[i]!;
      if (this.framesBack[i]! > 0 && blockLength > 0) {
        this.framesBack[this.count] = this.framesBack[i]!;
        this.offsets[this.count] = data;
        this.lengths[this.count] = blockLength;
        this.count++;
      }
      data += blockLength;
    }
    this.primaryOffset = data;
    this.primaryLength = end - data;
    return true;
  }
}
