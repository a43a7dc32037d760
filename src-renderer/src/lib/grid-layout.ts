/**
 * Columns, rows and tile size for n equal tiles in a w×h area (with `gap` pixels
 * between tiles), choosing the arrangement whose 16:9 tiles come out largest.
 * Pure, so reflow from 1 to 16 is unit-tested.
 */
export function gridShape(n: number, width: number, height: number, aspect = 16 / 9, gap = 0): { columns: number; rows: number; tileWidth: number } {
  const count = Math.max(1, n);
  let best = { columns: 1, rows: count, tileWidth: -1 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const tileWidth = Math.max(0, Math.min((width - gap * (columns - 1)) / columns, ((height - gap * (rows - 1)) / rows) * aspect));
    // On a tie, a landscape area spreads out in a row rather than stacking (two people side by side).
    const tie = Math.abs(tileWidth - best.tileWidth) <= 0.5;
    if (tileWidth > best.tileWidth + 0.5 || (tie && width >= height)) best = { columns, rows, tileWidth };
  }
  return best;
}

/** At most 16 remote cameras plus the self view are shown; the rest are in the roster. */
export const MAX_GRID_TILES = 17;
