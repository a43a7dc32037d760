import { MAX_TRACKED_LAYERS as LAYERS, type LayerStructure } from '../media/video/stream-layers.js';
import { MAX_LAYER } from '../media/video/svc-layer-selector.js';

/**
 * How the protocol names the layers of an SVC camera: each layer a subscriber can
 * choose is a stream of its own in INDEX, all in the publisher's group. A publication
 * owns a block of STREAM_ID_BLOCK stream ids from its base id: the base is the whole
 * stream (every layer: what a client that knows nothing of layers subscribes to),
 * and layer (spatial s, temporal t) is base + 1 + s * 3 + t (3: the layers tracked per stream).
 */
export const STREAM_ID_BLOCK = 16;

/** "Every layer there is" as a layer target. */
export const ALL_LAYERS = { spatial: MAX_LAYER, temporal: MAX_LAYER } as const;

export interface LayerChoice {
  spatial: number;
  temporal: number;
}

/** Whether `streamId` lies in the block of the publication whose base id is `base`. */
export function inBlock(streamId: number, base: number): boolean {
  return streamId >= base && streamId < base + STREAM_ID_BLOCK;
}

/** The layers a stream id of a publication's block stands for. */
export function layersOfStream(streamId: number, base: number): LayerChoice {
  const offset = streamId - base - 1;
  if (offset < 0 || offset >= LAYERS * LAYERS) return ALL_LAYERS;
  return { spatial: Math.floor(offset / LAYERS), temporal: offset % LAYERS };
}

/** One layer as INDEX lists it. */
export interface LayerStream {
  streamId: number;
  spatial: number;
  temporal: number;
  width: number;
  height: number;
  framerate: number;
}

/**
 * The streams INDEX lists for a layered publication: every spatial layer at its full
 * frame rate, and, for a client that asked for them (JOIN
 * wants_all_temporal_layers_in_index), each spatial layer at each temporal layer too.
 * The top one is the base id. Temporal layers halve the rate each step down (L3T3's 0,2,1,2 pattern).
 */
export function layerStreams(base: number, layers: LayerStructure, fullFramerate: number, allTemporal: boolean): LayerStream[] {
  const spatial = Math.min(layers.spatial, LAYERS);
  const temporal = Math.min(layers.temporal, LAYERS);
  const out: LayerStream[] = [];
  for (let s = 0; s < spatial; s++) {
    for (let t = allTemporal ? 0 : temporal - 1; t < temporal; t++) {
      const top = s === spatial - 1 && t === temporal - 1;
      out.push({
        streamId: top ? base : base + 1 + s * LAYERS + t,
        spatial: s,
        temporal: t,
        width: layers.widths[s] ?? 0,
        height: layers.heights[s] ?? 0,
        framerate: Math.max(1, Math.round(fullFramerate / 2 ** (temporal - 1 - t))),
      });
    }
  }
  return out;
}
