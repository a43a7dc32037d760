import { Av1SequenceHeader } from './av1-sequence-header.js';
import type { LayerDescriptor } from './layer-descriptor.js';

/** Temporal units remembered, so a late packet finds the picture and layer of its own. */
const RECENT = 32;
/** The first packet seen of a temporal unit started no frame OBU (it was lost or is late): its layer is not known. */
const UNKNOWN = 0xff;
/** A frame OBU started without an extension: the stream has one layer (the SDK's L1T1, or no SVC). */
const NO_LAYERS = 0xfe;
/** A timestamp this far behind the newest (10 s at 90 kHz), and not among the recent units, is the stream starting over. */
const RESTART_TICKS = 900_000;
const OBU_SEQUENCE_HEADER = 1;
const OBU_FRAME_HEADER = 3;
const OBU_TILE_GROUP = 4;
const OBU_FRAME = 6;

/**
 * The layers of an AV1 stream, read from its RTP packets (the AV1 RTP payload format): what the
 * Chime SDK's content share sends with SVC on (L1T3, one frame per temporal unit).
 *
 *     aggregation header  |Z|Y| W |N|-|-|-|   Z: the first element continues an OBU;
 *                                             W: elements (0: each has a length); N: a new sequence (keyframe)
 *     OBU header          |F| type  |X|S|R|   X: an extension follows
 *     OBU extension       | tid |sid| res |
 *
 * Unlike VP9's descriptor, only the packet that starts an OBU carries its layer, and nothing
 * says where a picture begins. So this reader keeps state across the packets of one stream
 * (one instance per stream, refilled per packet, allocating nothing):
 * - a packet whose RTP timestamp is newer than any before begins a picture (the temporal unit),
 *   numbered by a 15-bit counter as VP9 numbers its pictures (so does a keyframe, or a timestamp
 *   far behind, that is not among the recent units: the publisher started over);
 * - the first packet to arrive of a temporal unit decides its layer, from the first frame OBU that
 *   starts in it: its extension's layer, or none without one; the packets that continue the unit,
 *   and late ones among the last RECENT units, take that layer;
 * - a unit whose first packet to arrive started no frame OBU (the real first one lost or late)
 *   reads as without layer indices, and not as a picture start, for all its packets: forwarded
 *   whole, since a late base-layer packet dropped on the picture before's verdict would break
 *   every frame after it. A keyframe's unit is known anyway: a keyframe is on the base layer.
 *
 * A keyframe's first packet carries the sequence header, whose frame size is reported as VP9's
 * scalability structure reports its own (one spatial layer), for INDEX.
 *
 * AV1 temporal structures have no switching-up flag; a base-layer (T0) frame is where every
 * higher layer may start, since frames after it refer to nothing above it from before it. A
 * stream that shows a spatial layer above 0 (the SDK never sends one) is reported as one layer
 * from then on, and forwarded whole: its layer frames' ends are not marked in RTP.
 */
export class Av1Descriptor implements LayerDescriptor {
  valid = false;
  hasLayerIndices = false;
  pictureId = -1;
  spatialId = 0;
  temporalId = 0;
  readonly switchingUp = false;
  temporalSyncPoint = false;
  interPicturePredicted = false;
  beginsFrame = false;
  endsFrame = false;
  /** 1 with the frame size when this packet carries a whole sequence header (a keyframe's first packet), else 0. */
  ssSpatialLayers = 0;
  ssHasResolutions = false;
  readonly widths = new Uint16Array(1);
  readonly heights = new Uint16Array(1);
  private readonly sequenceHeader = new Av1SequenceHeader();
  /** The newest temporal unit's RTP timestamp, and the picture number it was given (-1: none yet). */
  private newestTimestamp = 0;
  private picture = -1;
  private readonly recentTimestamps = new Uint32Array(RECENT);
  private readonly recentPictures = new Uint16Array(RECENT);
  /** (tid << 2) | sid of each recent unit, or NO_LAYERS, or UNKNOWN. */
  private readonly recentLayers = new Uint8Array(RECENT);
  private readonly recentValid = new Uint8Array(RECENT);
  private spatialSeen = false;

  get beginsPicture(): boolean {
    return this.beginsFrame && this.spatialId === 0;
  }

  /**
   * Reads the packet whose payload lies at `offset` (`length` bytes), with its RTP timestamp and
   * marker bit; false (and `valid` false) when the payload is malformed.
   */
  read(packet: Uint8Array, offset: number, length: number, timestamp: number, marker: boolean): boolean {
    this.valid = false;
    this.hasLayerIndices = false;
    this.pictureId = -1;
    this.spatialId = 0;
    this.temporalId = 0;
    this.temporalSyncPoint = false;
    this.beginsFrame = false;
    this.endsFrame = marker;
    this.ssSpatialLayers = 0;
    this.ssHasResolutions = false;
    const end = offset + length;
    if (length < 1 || end > packet.length) return false;
    const aggregation = packet[offset]!;
    const newSequence = (aggregation & 0x08) !== 0;
    this.interPicturePredicted = !newSequence;
    let layer = this.readElements(packet, offset + 1, end, aggregation);
    if (layer < 0) return false;
    // N marks the first packet of a keyframe, which is on the base layer whatever the packet holds.
    if (layer === UNKNOWN && newSequence) layer = 0;
    if (layer < NO_LAYERS && (layer & 0x03) !== 0) this.spatialSeen = true;
    const ts = timestamp >>> 0;
    const newer = this.picture < 0 || ((ts - this.newestTimestamp) | 0) > 0;
    let slot = newer ? -1 : this.find(ts);
    if (newer || (slot < 0 && (newSequence || ((this.newestTimestamp - ts) >>> 0) > RESTART_TICKS))) {
      this.picture = (this.picture + 1) & 0x7fff;
      this.newestTimestamp = ts;
      slot = this.picture % RECENT;
      this.recentTimestamps[slot] = ts;
      this.recentPictures[slot] = this.picture;
      this.recentLayers[slot] = layer;
      this.recentValid[slot] = 1;
      this.beginsFrame = layer !== UNKNOWN;
    } else if (slot < 0) {
      // Older than every unit remembered: nothing is known of it (the selector forwards it as it is).
      this.valid = true;
      return true;
    }
    this.pictureId = this.recentPictures[slot]!;
    const known = this.recentLayers[slot]!;
    if (known < NO_LAYERS && !this.spatialSeen) {
      this.hasLayerIndices = true;
      this.temporalId = known >> 2;
      this.spatialId = known & 0x03;
      this.temporalSyncPoint = this.temporalId === 0;
    }
    this.valid = true;
    return true;
  }

  /** The ring slot of the recent temporal unit with `timestamp`, or -1 (the newest is looked at first). */
  private find(timestamp: number): number {
    const newest = this.picture % RECENT;
    if (this.recentValid[newest] && this.recentTimestamps[newest] === timestamp) return newest;
    for (let slot = 0; slot < RECENT; slot++) {
      if (this.recentValid[slot] && this.recentTimestamps[slot] === timestamp) return slot;
    }
    return -1;
  }

  /**
   * Walks the OBU elements after the aggregation header to the first frame OBU (frame, frame header
   * or tile group) that starts in the packet: its layer as (tid << 2) | sid, or NO_LAYERS when it has
   * no extension; UNKNOWN when none starts here (a continuation, or the extension byte itself in the
   * next packet); -1 when the elements overrun the packet. A whole sequence header on the way gives
   * the frame size.
   */
  private readElements(packet: Uint8Array, start: number, end: number, aggregation: number): number {
    const continues = (aggregation & 0x80) !== 0;
    const lastContinues = (aggregation & 0x40) !== 0;
    const count = (aggregation >> 4) & 0x03;
    let i = start;
    for (let element = 0; i < end; element++) {
      const counted = count !== 0 && element === count - 1;
      let size: number;
      if (counted) {
        size = end - i;
      } else {
        // leb128: seven bits per byte, low first; at most 8 bytes.
        size = 0;
        let shift = 1;
        for (let n = 0; ; n++) {
          if (i >= end || n >= 8) return -1;
          const byte = packet[i++]!;
          size += (byte & 0x7f) * shift;
          shift *= 128;
          if ((byte & 0x80) === 0) break;
        }
      }
      if (i + size > end) return -1;
      if (size > 0 && !(element === 0 && continues)) {
        const header = packet[i]!;
        if (header & 0x80) return -1; // the forbidden bit
        const type = (header >> 3) & 0x0f;
        const whole = !(lastContinues && i + size === end);
        if (type === OBU_FRAME || type === OBU_FRAME_HEADER || type === OBU_TILE_GROUP) {
          if ((header & 0x04) === 0) return NO_LAYERS;
          // The extension byte may be the next packet's first (a fragment of the header alone).
          if (size < 2) return whole ? -1 : UNKNOWN;
          const extension = packet[i + 1]!;
          return ((extension >> 5) << 2) | ((extension >> 3) & 0x03);
        }
        if (type === OBU_SEQUENCE_HEADER && whole) this.readSequenceHeader(packet, i, i + size);
      }
      i += size;
      if (counted) break;
    }
    return UNKNOWN;
  }

  /** The sequence header OBU at [start, end) (no extension: it applies to every layer), past its optional size field. */
  private readSequenceHeader(packet: Uint8Array, start: number, end: number): void {
    let i = start + 1;
    if (packet[start]! & 0x02) {
      // obu_has_size_field: a leb128 size (the element's length already bounds it).
      while (i < end && packet[i]! & 0x80) i++;
      i++;
    }
    if (i >= end || !this.sequenceHeader.read(packet, i, end)) return;
    if (this.sequenceHeader.width > 0xffff || this.sequenceHeader.height > 0xffff) return;
    this.ssSpatialLayers = 1;
    this.ssHasResolutions = true;
    this.widths[0] = this.sequenceHeader.width;
    this.heights[0] = this.sequenceHeader.height;
  }
}
