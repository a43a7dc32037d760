/**
 * Columns and rows for n equal tiles in a w×h area, choosing the arrangement
 * whose 16:9 tiles come out largest. Pure, so reflow from 1 to 16 is unit-tested.
 */
export function gridShape(n: number, width: number, height: number, aspect = 16 / 9): { columns: number; rows: number } {
  if (n <= 1) return { columns: 1, rows: 1 };
  let best = { columns: n, rows: 1, size: 0 };
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns);
    const tileWidth = Math.min(width / columns, (height / rows) * aspect);
    // On a tie, a landscape area spreads out in a row rather than stacking (two people side by side).
    const tie = Math.abs(tileWidth - best.size) <= 0.5;
    if (tileWidth > best.size + 0.5 || (tie && width >= height)) best = { columns, rows, size: tileWidth };
  }
  return { columns: best.columns, rows: best.rows };
}

/** At most 16 remote cameras plus the self view are shown; the rest are in the roster. */
export const MAX_GRID_TILES = 17;
