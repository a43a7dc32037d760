import { create } from 'zustand';
import { baseAttendeeId } from '../lib/names';

export interface Tile {
  tileId: number;
  /** For a content tile, the sharer's `<id>#content`. */
  attendeeId: string;
  local: boolean;
  content: boolean;
  /** A video stream is bound (the SDK's own `active` also needs an element, which we attach only when shown). */
  hasVideo: boolean;
  paused: boolean;
}

export interface TilesState {
  tiles: Record<number, Tile>;
  upsert(tile: Tile): void;
  remove(tileId: number): void;
  reset(): void;
}

export const useTilesStore = create<TilesState>((set) => ({
  tiles: {},
  upsert: (tile) =>
    set((state) => {
      const old = state.tiles[tile.tileId];
      if (old && old.attendeeId === tile.attendeeId && old.local === tile.local && old.content === tile.content && old.hasVideo === tile.hasVideo && old.paused === tile.paused) return state;
      return { tiles: { ...state.tiles, [tile.tileId]: tile } };
    }),
  remove: (tileId) =>
    set((state) => {
      if (!(tileId in state.tiles)) return state;
      const { [tileId]: _gone, ...rest } = state.tiles;
      return { tiles: rest };
    }),
  reset: () => set({ tiles: {} }),
}));

/** The camera tile of each attendee (local included), keyed by attendee id. */
export function cameraTilesByAttendee(tiles: Record<number, Tile>): Map<string, Tile> {
  const out = new Map<string, Tile>();
  for (const tile of Object.values(tiles)) if (!tile.content && tile.hasVideo) out.set(tile.attendeeId, tile);
  return out;
}

/** The content share on stage: the newest remote one, else our own preview. */
export function stageContentTile(tiles: Record<number, Tile>): Tile | undefined {
  const content = Object.values(tiles).filter((t) => t.content);
  return content.filter((t) => !t.local).sort((a, b) => b.tileId - a.tileId)[0] ?? content[0];
}

export function contentOwner(tile: Tile): string {
  return baseAttendeeId(tile.attendeeId);
}
