import type { LayerDescriptor } from './layer-descriptor.js';

/** A packet this many pictures behind the one under way is a reordered one; further behind, the count started over. */
const LATE_PICTURES = 32;

/** VP9 has at most 8 spatial and 8 temporal layers (AV1 fewer): "all of them". */
export const MAX_LAYER = 7;

/** What to do with one packet of a layered stream. */
export const LayerVerdict = {
  Drop: 0,
  Forward: 1,
  /** Forward, with the marker bit set: it ends the highest layer frame this subscriber takes. */
  ForwardEndOfPicture: 2,
} as const;
export type LayerVerdict = (typeof LayerVerdict)[keyof typeof LayerVerdict];

/**
 * One subscriber's choice of spatial and temporal layers in one SVC stream (VP9
 * with layer indices, or AV1 with OBU extensions; one SSRC), applied only where the codec allows a switch:
 * - a lower spatial or temporal layer at the start of any picture (nothing below depends on what is dropped);
 * - a higher temporal layer at a switching-up point (VP9's U) of that layer, or every temporal
 *   layer up to the target from a temporal sync point on (an AV1 base-layer frame);
 * - a higher spatial layer at a layer frame that is not inter-picture predicted
 *   (a keyframe, or a layer sync frame), since its own earlier frames never reached
 *   this subscriber. Until one comes, `wantsKeyframe` says the subscriber needs one.
 * Dropped packets are the caller's to skip in its sequence numbering; the marker bit
 * moves to the end of the highest spatial layer forwarded, where the receiver's
 * picture now ends.
 */
export class SvcLayerSelector {
  /** Layers asked for (by the subscriber or the allocator); the highest there are by default. */
  targetSpatial = MAX_LAYER;
  targetTemporal = MAX_LAYER;
  /** Layers being forwarded now; -1 before the first keyframe. */
  currentSpatial = -1;
  currentTemporal = -1;
  /** The highest spatial layer the publisher sends, from its scalability structure and its packets. */
  private highestSpatial = 0;
  /** Whether the picture under way is one this subscriber takes (its temporal layer is in). */
  private pictureTaken = false;
  /** The picture under way (its picture id; -1 when the stream carries none), and whether its end was marked. */
  private picture = -1;
  private pictureEnded = false;

  setTarget(spatial: number, temporal: number): void {
    this.targetSpatial = spatial;
    this.targetTemporal = temporal;
  }

  /** Starts over (a new source, or a restart on a keyframe): the next keyframe sets both layers. */
  reset(): void {
    this.currentSpatial = -1;
    this.currentTemporal = -1;
    this.pictureTaken = false;
    this.picture = -1;
    this.pictureEnded = false;
    this.highestSpatial = 0;
  }

  /** A higher spatial layer is wanted, the publisher sends it, and only a keyframe (or a sync frame) can start it. */
  get wantsKeyframe(): boolean {
    return this.currentSpatial >= 0 && this.currentSpatial < this.targetSpatial && this.currentSpatial < this.highestSpatial;
  }

  select(d: LayerDescriptor, marker: boolean): LayerVerdict {
    if (!d.valid || !d.hasLayerIndices) return marker ? LayerVerdict.ForwardEndOfPicture : LayerVerdict.Forward;
    const sid = d.spatialId;
    if (d.ssSpatialLayers > 0) this.highestSpatial = d.ssSpatialLayers - 1;
    else if (sid > this.highestSpatial) this.highestSpatial = sid;
    if (this.isLate(d)) {
      // A reordered packet of an earlier picture changes nothing: it goes if its layers are ones being taken.
      if (this.currentSpatial < 0 || sid > this.currentSpatial || d.temporalId > this.currentTemporal) return LayerVerdict.Drop;
      return marker || (d.endsFrame && sid === this.currentSpatial) ? LayerVerdict.ForwardEndOfPicture : LayerVerdict.Forward;
    }
    if (d.beginsPicture) this.startPicture(d);
    if (this.currentSpatial < 0 || !this.pictureTaken) return LayerVerdict.Drop;
    if (sid > this.currentSpatial) {
      // Up one spatial layer where that layer frame needs nothing this subscriber lacks, and only
      // while the picture's end has not been marked yet (the receiver would close it early).
      if (sid !== this.currentSpatial + 1 || sid > this.targetSpatial || !d.beginsFrame || d.interPicturePredicted || this.pictureEnded) return LayerVerdict.Drop;
      this.currentSpatial = sid;
    }
    if (marker || (d.endsFrame && sid === this.currentSpatial)) {
      this.pictureEnded = true;
      return LayerVerdict.ForwardEndOfPicture;
    }
    return LayerVerdict.Forward;
  }

  /**
   * Whether `d` belongs to one of the few pictures before the one under way (15-bit picture ids,
   * with wraparound). A keyframe, or an id far behind (an encoder that started its count over), is not late.
   */
  private isLate(d: LayerDescriptor): boolean {
    if (d.pictureId < 0 || this.picture < 0 || d.pictureId === this.picture) return false;
    if (d.beginsPicture && !d.interPicturePredicted) return false;
    const behind = (this.picture - d.pictureId) & 0x7fff;
    return behind > 0 && behind <= LATE_PICTURES;
  }

  private startPicture(d: LayerDescriptor): void {
    const tid = d.temporalId;
    this.picture = d.pictureId;
    this.pictureEnded = false;
    if (!d.interPicturePredicted) {
      // A keyframe: every layer may start here.
      this.currentSpatial = Math.min(this.targetSpatial, this.highestSpatial);
      this.currentTemporal = this.targetTemporal;
    } else if (this.currentSpatial >= 0) {
      if (this.targetSpatial < this.currentSpatial) this.currentSpatial = this.targetSpatial;
      if (this.targetTemporal < this.currentTemporal) this.currentTemporal = this.targetTemporal;
      else if (tid > this.currentTemporal && tid <= this.targetTemporal && d.switchingUp) this.currentTemporal = tid;
    }
    this.pictureTaken = tid <= this.currentTemporal;
    // The pictures after this one refer to nothing above it from before it: every layer may start with them.
    if (d.temporalSyncPoint && this.pictureTaken && this.targetTemporal > this.currentTemporal) this.currentTemporal = this.targetTemporal;
  }
}
