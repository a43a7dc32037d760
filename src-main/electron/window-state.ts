/**
 * The main window's size, position and maximised state, remembered between
 * runs. Saved state is untrusted input (a hand-edited file, a display that is
 * gone): it is validated and fitted to the displays that exist now.
 */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  width: number;
  height: number;
  /** Absent: let the OS centre the window. */
  x?: number;
  y?: number;
  maximized: boolean;
}

export const MIN_WINDOW = { width: 800, height: 560 };
export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 800, maximized: false };
/** How much of the title bar area must be on a display for a position to be kept. */
const MIN_VISIBLE = 64;

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 100_000;

export function parseWindowState(value: unknown): WindowState {
  if (typeof value !== 'object' || value === null) return { ...DEFAULT_WINDOW_STATE };
  const v = value as Record<string, unknown>;
  if (!isInt(v.width) || !isInt(v.height)) return { ...DEFAULT_WINDOW_STATE };
  const state: WindowState = {
    width: Math.max(MIN_WINDOW.width, v.width),
    height: Math.max(MIN_WINDOW.height, v.height),
    maximized: v.maximized === true,
  };
  if (isInt(v.x) && isInt(v.y)) {
    state.x = v.x;
    state.y = v.y;
  }
  return state;
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Fits a saved state to the current displays' work areas: a window whose top
 * edge is not visibly on any display is re-centred by the OS, and a window
 * larger than the biggest display shrinks to it.
 */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  if (workAreas.length === 0) return state;
  const largest = workAreas.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
  const fitted: WindowState = {
    width: Math.min(state.width, Math.max(MIN_WINDOW.width, largest.width)),
    height: Math.min(state.height, Math.max(MIN_WINDOW.height, largest.height)),
    maximized: state.maximized,
  };
  if (state.x !== undefined && state.y !== undefined) {
    const titleBar: Rect = { x: state.x, y: state.y, width: fitted.width, height: MIN_VISIBLE };
    const visible = workAreas.some((area) => {
      const o = overlap(titleBar, area);
      return o.width >= MIN_VISIBLE && o.height >= MIN_VISIBLE / 2;
    });
    if (visible) {
      fitted.x = state.x;
      fitted.y = state.y;
    }
  }
  return fitted;
}

/** The state to save: the normal (un-maximised) bounds, so restoring from maximised goes back to them. */
export function captureWindowState(normalBounds: Rect, maximized: boolean): WindowState {
  return parseWindowState({ ...normalBounds, maximized });
}
