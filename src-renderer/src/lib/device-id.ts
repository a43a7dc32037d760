import { DEVICE_ID_PATTERN } from '../../../src-main/shared/app-api.js';

/**
 * This browser's random identity for meetings, remembered in localStorage: it is
 * how a host's ban, an admission from the lobby, a co-host role or a mute lock
 * follows a person through a reload. It says nothing about who they are.
 */
const KEY = 'chorus.device.v1';

function randomId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

let cached: string | undefined;

export function deviceId(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = safeLocalStorage()): string {
  if (cached) return cached;
  try {
    const stored = storage?.getItem(KEY);
    if (stored && DEVICE_ID_PATTERN.test(stored)) return (cached = stored);
  } catch {
    // Unavailable storage: an id for this page's life.
  }
  const id = randomId();
  try {
    storage?.setItem(KEY, id);
  } catch {
    // As above.
  }
  return (cached = id);
}

function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
