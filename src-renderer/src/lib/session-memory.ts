import type { KeyValueStorage } from './prefs';

/**
 * What a tab remembers about a meeting it is in: the passcode it got in with and
 * the host key, so a reload or "Rejoin" does not ask again. Kept in
 * sessionStorage only: it dies with the tab, and never reaches localStorage.
 */
export interface MeetingSecrets {
  passcode?: string;
  hostKey?: string;
}

const KEY = 'chorus.meeting.v1:';

function sessionStore(): KeyValueStorage & { removeItem(key: string): void } | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

const keyFor = (serverUrl: string, meetingCode: string): string => `${KEY}${serverUrl}|${meetingCode}`;

export function recallSecrets(serverUrl: string, meetingCode: string, storage = sessionStore()): MeetingSecrets {
  try {
    const raw = storage?.getItem(keyFor(serverUrl, meetingCode));
    const o: unknown = raw ? JSON.parse(raw) : undefined;
    if (typeof o !== 'object' || o === null) return {};
    const { passcode, hostKey } = o as Record<string, unknown>;
    return {
      ...(typeof passcode === 'string' && passcode.length <= 64 ? { passcode } : {}),
      ...(typeof hostKey === 'string' && hostKey.length <= 128 ? { hostKey } : {}),
    };
  } catch {
    return {};
  }
}

export function rememberSecrets(serverUrl: string, meetingCode: string, secrets: MeetingSecrets, storage = sessionStore()): void {
  try {
    const merged = { ...recallSecrets(serverUrl, meetingCode, storage), ...secrets };
    storage?.setItem(keyFor(serverUrl, meetingCode), JSON.stringify(merged));
  } catch {
    // Storage disabled: the passcode is asked again, nothing worse.
  }
}

export function forgetPasscode(serverUrl: string, meetingCode: string, storage = sessionStore()): void {
  try {
    const { hostKey } = recallSecrets(serverUrl, meetingCode, storage);
    if (hostKey) storage?.setItem(keyFor(serverUrl, meetingCode), JSON.stringify({ hostKey }));
    else storage?.removeItem(keyFor(serverUrl, meetingCode));
  } catch {
    // As above.
  }
}
