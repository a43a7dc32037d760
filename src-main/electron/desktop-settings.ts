import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TrustedServers } from './certificate-trust.js';
import { DEFAULT_WINDOW_STATE, parseWindowState, type WindowState } from './window-state.js';

/**
 * The desktop app's own small state, in one JSON file under userData: window
 * state, pinned server certificates, and whether the firewall notice was shown.
 * Read defensively (a corrupt file means defaults, not a crash) and written
 * atomically (temp file + rename), so a crash mid-write never loses it.
 */

export interface DesktopSettings {
  window: WindowState;
  trustedServers: TrustedServers;
  firewallNoticeShown: boolean;
}

export function defaultSettings(): DesktopSettings {
  return { window: { ...DEFAULT_WINDOW_STATE }, trustedServers: new TrustedServers(), firewallNoticeShown: false };
}

export function parseSettings(text: string | undefined): DesktopSettings {
  if (text === undefined) return defaultSettings();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return defaultSettings();
  }
  if (typeof value !== 'object' || value === null) return defaultSettings();
  const v = value as Record<string, unknown>;
  return {
    window: parseWindowState(v.window),
    trustedServers: TrustedServers.fromJSON(v.trustedServers),
    firewallNoticeShown: v.firewallNoticeShown === true,
  };
}

export function serialiseSettings(settings: DesktopSettings): string {
  return JSON.stringify({ window: settings.window, trustedServers: settings.trustedServers.toJSON(), firewallNoticeShown: settings.firewallNoticeShown }, null, 2) + '\n';
}

export async function loadSettings(path: string): Promise<DesktopSettings> {
  try {
    return parseSettings(await readFile(path, 'utf8'));
  } catch {
    return defaultSettings();
  }
}

let writeChain: Promise<void> = Promise.resolve();

/** Saves the settings; writes are serialised so an older save never lands after a newer one. */
export function saveSettings(path: string, settings: DesktopSettings): Promise<void> {
  const text = serialiseSettings(settings);
  writeChain = writeChain
    .catch(() => undefined)
    .then(async () => {
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, path);
    });
  return writeChain;
}
