import { BitrateMeter } from '../bwe/bitrate-meter.js';
import type { LayerDescriptor } from './layer-descriptor.js';

/** Layers tracked per stream: Chime's cameras use at most L3T3; a publisher sending more is counted in the top layers. */
export const MAX_TRACKED_LAYERS = 3;

/** One publisher's SVC structure as subscribers are told of it (INDEX): layers and their resolutions. */
export interface LayerStructure {
  spatial: number;
  temporal: number;
  /** Per spatial layer, 0 when the publisher has not said. */
  widths: number[];
  heights: number[];
}

/**
 * What one SVC stream carries, learned from its packets: how many spatial layers
 * (from the scalability structure each keyframe carries, with their resolutions)
 * and temporal layers (the highest seen; lowered only when a whole keyframe
 * interval went without the top one, as when the SDK steps down from L3T3 to L1T3),
 * and the rate of each layer. A stream without layer indices stays `layered === false`, and a
 * keyframe without them makes it so again.
 */
export class StreamLayers {
  layered = false;
  spatial = 1;
  temporal = 1;
  readonly widths = new Uint16Array(MAX_TRACKED_LAYERS);
  readonly heights = new Uint16Array(MAX_TRACKED_LAYERS);
  private highestTemporalSinceKeyframe = 0;
  /** [spatial * MAX + temporal]: bytes of that layer alone. */
  private readonly meters: BitrateMeter[];

  constructor(windowMs: number, bucketMs: number) {
    this.meters = Array.from({ length: MAX_TRACKED_LAYERS * MAX_TRACKED_LAYERS }, () => new BitrateMeter(windowMs, bucketMs));
  }

  /** Counts one packet; true when the structure changed (subscribers should be told). */
  observe(d: LayerDescriptor, bytes: number, nowMs: number): boolean {
    if (!d.valid) return false;
    const keyframe = d.beginsPicture && !d.interPicturePredicted;
    if (!d.hasLayerIndices) {
      // A keyframe without layers on a layered stream: the publisher went down to one layer (the SDK's L1T1).
      if (!this.layered || !keyframe) return false;
      this.reset();
      return true;
    }
    let changed = !this.layered;
    this.layered = true;
    const sid = Math.min(d.spatialId, MAX_TRACKED_LAYERS - 1);
    const tid = Math.min(d.temporalId, MAX_TRACKED_LAYERS - 1);
    this.meters[sid * MAX_TRACKED_LAYERS + tid]!.add(bytes, nowMs);
    if (d.ssSpatialLayers > 0) {
      const spatial = Math.min(d.ssSpatialLayers, MAX_TRACKED_LAYERS);
      if (spatial !== this.spatial) changed = true;
      this.spatial = spatial;
      if (d.ssHasResolutions) {
        for (let s = 0; s < spatial; s++) {
          if (this.widths[s] !== d.widths[s] || this.heights[s] !== d.heights[s]) changed = true;
          this.widths[s] = d.widths[s]!;
          this.heights[s] = d.heights[s]!;
        }
      }
    } else if (sid + 1 > this.spatial) {
      this.spatial = sid + 1;
      changed = true;
    }
    if (keyframe) {
      // If the interval before this keyframe never reached the top temporal layer, there is one fewer.
      const seen = this.highestTemporalSinceKeyframe + 1;
      if (seen < this.temporal) {
        this.temporal = seen;
        changed = true;
      }
      this.highestTemporalSinceKeyframe = tid;
    }
    if (tid > this.highestTemporalSinceKeyframe) this.highestTemporalSinceKeyframe = tid;
    if (tid + 1 > this.temporal) {
      this.temporal = tid + 1;
      changed = true;
    }
    return changed;
  }

  private reset(): void {
    this.layered = false;
    this.spatial = 1;
    this.temporal = 1;
    this.widths.fill(0);
    this.heights.fill(0);
    this.highestTemporalSinceKeyframe = 0;
  }

  /** The rate a subscriber taking layers up to (spatial, temporal) receives, bits per second. */
  bitrateBps(spatial: number, temporal: number, nowMs: number): number {
    let bps = 0;
    for (let s = 0; s <= Math.min(spatial, MAX_TRACKED_LAYERS - 1); s++) {
      for (let t = 0; t <= Math.min(temporal, MAX_TRACKED_LAYERS - 1); t++) bps += this.meters[s * MAX_TRACKED_LAYERS + t]!.bps(nowMs);
    }
    return bps;
  }

  /**
   * The ladder the server climbs for a subscriber it chooses layers for, cheapest first: the base
   * layer at each frame rate, then each higher spatial layer at the full frame rate; with each
   * step's cumulative rate. (Runs once per allocation round, not per packet.)
   */
  ladder(nowMs: number): { spatial: number; temporal: number; bps: number }[] {
    const steps = [];
    for (let t = 0; t < this.temporal; t++) steps.push({ spatial: 0, temporal: t, bps: this.bitrateBps(0, t, nowMs) });
    for (let s = 1; s < this.spatial; s++) steps.push({ spatial: s, temporal: this.temporal - 1, bps: this.bitrateBps(s, this.temporal - 1, nowMs) });
    return steps;
  }

  structure(): LayerStructure {
    return {
      spatial: this.spatial,
      temporal: this.temporal,
      widths: Array.from(this.widths.subarray(0, this.spatial)),
      heights: Array.from(this.heights.subarray(0, this.spatial)),
    };
  }
}
