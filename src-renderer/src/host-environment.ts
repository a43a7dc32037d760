import { DESKTOP_API_GLOBAL, type DesktopApi } from '../../src-main/shared/desktop-api';

/** The preload's API when running inside the desktop app; undefined in a plain browser. */
export function desktopApi(): DesktopApi | undefined {
  const candidate = (globalThis as Record<string, unknown>)[DESKTOP_API_GLOBAL] as DesktopApi | undefined;
  return candidate?.kind === 'chorus-desktop' ? candidate : undefined;
}
