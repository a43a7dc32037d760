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
  /** The SDK's mark from INDEX paused_at_source_ids: the sender's connection is too poor to send. */
  poorConnection: boolean;
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
      if (old && old.attendeeId === tile.attendeeId && old.local === tile.local && old.content === tile.content && old.hasVideo === tile.hasVideo && old.paused === tile.paused && old.poorConnection === tile.poorConnection) return state;
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

/** Content shares, oldest first (the SDK numbers tiles in order), each with whether it is this attendee's own. */
export function contentTiles(tiles: Record<number, Tile>, selfId: string | undefined): { tile: Tile; own: boolean }[] {
  return Object.values(tiles)
    .filter((t) => t.content && t.hasVideo)
    .sort((a, b) => a.tileId - b.tileId)
    .map((tile) => ({ tile, own: tile.local || (selfId !== undefined && baseAttendeeId(tile.attendeeId) === selfId) }));
}

/**
 * Which share is on stage: the one chosen (while it exists), else the one that started
 * first — a second share gets a tab, it does not silently take the stage. Our own share
 * never takes the stage: we see a small preview instead.
 */
export function stageContentTile(tiles: Record<number, Tile>, selfId: string | undefined, chosenTileId?: number): Tile | undefined {
  const others = contentTiles(tiles, selfId).filter((c) => !c.own).map((c) => c.tile);
  return others.find((t) => t.tileId === chosenTileId) ?? others[0];
}

/** Our own share's tile, for the "you are sharing" preview. */
export function ownContentTile(tiles: Record<number, Tile>, selfId: string | undefined): Tile | undefined {
  return contentTiles(tiles, selfId).find((c) => c.own)?.tile;
}

export function contentOwner(tile: Tile): string {
  return baseAttendeeId(tile.attendeeId);
}
