/**
 * What the SVC stages need to know of one packet of a layered stream, whatever the codec:
 * its spatial and temporal layer, where its layer frame and picture begin and end, and where
 * a subscriber may switch layers. VP9 carries all of it in its payload descriptor; AV1 in its
 * OBU extension headers, with the rest inferred per stream (see Av1Descriptor). One instance
 * per stream is refilled per packet; a malformed packet reads as `valid === false`.
 */
export interface LayerDescriptor {
  readonly valid: boolean;
  /** Layer indices present: without them the packet (and, while it lasts, the stream) has one layer. */
  readonly hasLayerIndices: boolean;
  /** The picture this packet belongs to, 15 bits; -1 when the stream carries none. */
  readonly pictureId: number;
  readonly spatialId: number;
  readonly temporalId: number;
  /** This layer frame may be the first of its temporal layer a subscriber takes (VP9's U bit). */
  readonly switchingUp: boolean;
  /**
   * From this picture on, every temporal layer may start: nothing after it refers to a picture of a
   * higher layer before it (an AV1 base-layer frame in the temporal structures libwebrtc encodes).
   */
  readonly temporalSyncPoint: boolean;
  /** Not a switching point for a spatial layer: it refers to earlier pictures. */
  readonly interPicturePredicted: boolean;
  /** First packet of a layer frame. */
  readonly beginsFrame: boolean;
  /** Last packet of a layer frame. */
  readonly endsFrame: boolean;
  /** First packet of a picture: where temporal and downward spatial switches take effect. */
  readonly beginsPicture: boolean;
  /** Spatial layers a scalability structure in this packet announces (0 when it carries none). */
  readonly ssSpatialLayers: number;
  /** Whether that structure carries each spatial layer's resolution. */
  readonly ssHasResolutions: boolean;
  readonly widths: Uint16Array;
  readonly heights: Uint16Array;
}
