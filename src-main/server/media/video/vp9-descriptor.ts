/**
 * The VP9 RTP payload descriptor (RFC 9628 §4.2), read in place: the SVC layer
 * selector needs each packet's spatial and temporal layer, its switching-point
 * bits and where its layer frame begins and ends. One instance is refilled per
 * packet (the forwarding path allocates nothing); a malformed descriptor reads
 * as `valid === false`, never as an exception.
 *
 *      0 1 2 3 4 5 6 7
 *     +-+-+-+-+-+-+-+-+
 *     |I|P|L|F|B|E|V|Z|
 *     +-+-+-+-+-+-+-+-+
 *  I: |M| PICTURE ID  |  (7 or 15 bits)
 *  L: | TID |U| SID |D|
 *     |   TL0PICIDX   |  (non-flexible mode only)
 *  F: |P_DIFF       |N|  (flexible mode, P set: up to 3)
 *  V: scalability structure (SS)
 */

import type { LayerDescriptor } from './layer-descriptor.js';

/** At most 8 spatial layers (N_S is 3 bits). */
const MAX_SPATIAL = 8;

export class Vp9Descriptor implements LayerDescriptor {
  valid = false;
  /** Inter-picture predicted (P): not a switching point for a spatial layer. */
  interPicturePredicted = false;
  /** Layer indices present (L): without them the stream has one layer. */
  hasLayerIndices = false;
  flexible = false;
  /** First packet of a layer frame (B). */
  beginsFrame = false;
  /** Last packet of a layer frame (E). */
  endsFrame = false;
  /** -1 when the picture id is absent. */
  pictureId = -1;
  temporalId = 0;
  /** U: a switching-up point, where a receiver may start taking this temporal layer. */
  switchingUp = false;
  /** VP9 says where each temporal layer may start (U), frame by frame. */
  readonly temporalSyncPoint = false;
  spatialId = 0;
  /** D: this layer frame depends on the lower spatial layer of the same picture. */
  interLayerDependent = false;
  /** Spatial layers the scalability structure announces (0 when this packet carries none). */
  ssSpatialLayers = 0;
  /** Per spatial layer, when the scalability structure carries resolutions (Y). */
  readonly widths = new Uint16Array(MAX_SPATIAL);
  readonly heights = new Uint16Array(MAX_SPATIAL);
  ssHasResolutions = false;
  /** Bytes of descriptor before the VP9 payload. */
  length = 0;

  /** Reads the descriptor at `offset`; false (and `valid` false) when it is malformed. */
  read(packet: Uint8Array, offset: number, length: number): boolean {
    this.valid = false;
    this.ssSpatialLayers = 0;
    this.ssHasResolutions = false;
    this.pictureId = -1;
    this.temporalId = 0;
    this.spatialId = 0;
    this.switchingUp = false;
    this.interLayerDependent = false;
    const end = offset + length;
    if (length < 1 || end > packet.length) return false;
    const b0 = packet[offset]!;
    const hasPictureId = (b0 & 0x80) !== 0;
    this.interPicturePredicted = (b0 & 0x40) !== 0;
    this.hasLayerIndices = (b0 & 0x20) !== 0;
    this.flexible = (b0 & 0x10) !== 0;
    this.beginsFrame = (b0 & 0x08) !== 0;
    this.endsFrame = (b0 & 0x04) !== 0;
    const hasSs = (b0 & 0x02) !== 0;
    let i = offset + 1;
    if (hasPictureId) {
      if (i >= end) return false;
      if (packet[i]! & 0x80) {
        if (i + 1 >= end) return false;
        this.pictureId = ((packet[i]! & 0x7f) << 8) | packet[i + 1]!;
        i += 2;
      } else {
        this.pictureId = packet[i]!;
        i += 1;
      }
    }
    if (this.hasLayerIndices) {
      if (i >= end) return false;
      const l = packet[i]!;
      this.temporalId = l >> 5;
      this.switchingUp = (l & 0x10) !== 0;
      this.spatialId = (l >> 1) & 0x07;
      this.interLayerDependent = (l & 0x01) !== 0;
      i += this.flexible ? 1 : 2;
      if (i > end) return false;
    }
    if (this.flexible && this.interPicturePredicted) {
      // Up to three reference indices, each with N set when another follows.
      for (let n = 0; ; n++) {
        if (i >= end || n >= 3) return false;
        const more = (packet[i]! & 0x01) !== 0;
        i++;
        if (!more) break;
      }
    }
    if (hasSs) {
      if (i >= end) return false;
      const ss = packet[i]!;
      const layers = (ss >> 5) + 1;
      const y = (ss & 0x10) !== 0;
      const g = (ss & 0x08) !== 0;
      i++;
      if (y) {
        if (i + layers * 4 > end) return false;
        for (let s = 0; s < layers; s++) {
          this.widths[s] = (packet[i]! << 8) | packet[i + 1]!;
          this.heights[s] = (packet[i + 2]! << 8) | packet[i + 3]!;
          i += 4;
        }
        this.ssHasResolutions = true;
      }
      if (g) {
        if (i >= end) return false;
        const groups = packet[i]!;
        i++;
        for (let n = 0; n < groups; n++) {
          if (i >= end) return false;
          const refs = (packet[i]! >> 2) & 0x03;
          i += 1 + refs;
          if (i > end) return false;
        }
      }
      this.ssSpatialLayers = layers;
    }
    this.length = i - offset;
    this.valid = true;
    return true;
  }

  /** The first packet of a picture: where temporal and downward spatial switches take effect. */
  get beginsPicture(): boolean {
    return this.beginsFrame && this.spatialId === 0;
  }
}
