/**
 * Remembered choices (devices, name, join muted...) and recent meetings, in
 * localStorage. Every read is validated: storage is user-editable and may hold
 * anything, or be unavailable altogether.
 */
export interface Prefs {
  displayName: string;
  audioInputId?: string;
  videoInputId?: string;
  audioOutputId?: string;
  joinMuted: boolean;
  joinCameraOff: boolean;
  noiseSuppression: boolean;
  /** A tone when people join, leave or raise a hand. */
  notifySound: boolean;
}

export interface RecentMeeting {
  serverUrl: string;
  meetingCode: string;
  name: string;
  fingerprint?: string;
  joinedAt: number;
}

export const DEFAULT_PREFS: Prefs = { displayName: '', joinMuted: false, joinCameraOff: false, noiseSuppression: true, notifySound: false };
const PREFS_KEY = 'chorus.prefs.v1';
const RECENT_KEY = 'chorus.recent.v1';
const MAX_RECENT = 8;

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function defaultStorage(): KeyValueStorage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

function read(storage: KeyValueStorage | undefined, key: string): unknown {
  try {
    const raw = storage?.getItem(key);
    return raw ? JSON.parse(raw) : undefined;
  } catch {
    return undefined;
  }
}

function write(storage: KeyValueStorage | undefined, key: string, value: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: remembering is a convenience, not a requirement.
  }
}

const str = (v: unknown, max = 256): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);
const bool = (v: unknown, fallback: boolean): boolean => (typeof v === 'boolean' ? v : fallback);

export function loadPrefs(storage = defaultStorage()): Prefs {
  const raw = read(storage, PREFS_KEY);
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    displayName: str(o.displayName, 64) ?? '',
    audioInputId: str(o.audioInputId),
    videoInputId: str(o.videoInputId),
    audioOutputId: str(o.audioOutputId),
    joinMuted: bool(o.joinMuted, DEFAULT_PREFS.joinMuted),
    joinCameraOff: bool(o.joinCameraOff, DEFAULT_PREFS.joinCameraOff),
    noiseSuppression: bool(o.noiseSuppression, DEFAULT_PREFS.noiseSuppression),
    notifySound: bool(o.notifySound, DEFAULT_PREFS.notifySound),
  };
}

export function savePrefs(patch: Partial<Prefs>, storage = defaultStorage()): Prefs {
  const next = { ...loadPrefs(storage), ...patch };
  write(storage, PREFS_KEY, next);
  return next;
}

export function loadRecent(storage = defaultStorage()): RecentMeeting[] {
  const raw = read(storage, RECENT_KEY);
  if (!Array.isArray(raw)) return [];
  const out: RecentMeeting[] = [];
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue;
    const r = item as Record<string, unknown>;
    const serverUrl = str(r.serverUrl);
    const meetingCode = str(r.meetingCode, 32);
    if (serverUrl === undefined || meetingCode === undefined) continue;
    const fingerprint = str(r.fingerprint, 128);
    out.push({ serverUrl, meetingCode, name: str(r.name, 64) ?? '', ...(fingerprint ? { fingerprint } : {}), joinedAt: typeof r.joinedAt === 'number' ? r.joinedAt : 0 });
  }
  return out.slice(0, MAX_RECENT);
}

export function rememberMeeting(meeting: RecentMeeting, storage = defaultStorage()): RecentMeeting[] {
  const rest = loadRecent(storage).filter((r) => !(r.serverUrl === meeting.serverUrl && r.meetingCode === meeting.meetingCode));
  const next = [meeting, ...rest].slice(0, MAX_RECENT);
  write(storage, RECENT_KEY, next);
  return next;
}
