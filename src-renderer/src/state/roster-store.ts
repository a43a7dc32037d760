import { create } from 'zustand';
import { baseAttendeeId, displayNameOf, isContentAttendee } from '../lib/names';
import { t } from '../i18n/i18n';

const GUEST_NAME = t.meeting.guest;

export interface RosterEntry {
  attendeeId: string;
  name: string;
  present: boolean;
  muted: boolean;
  /** 0..1 from the mixer's AUDIO_METADATA, via the SDK's volume indicator. */
  volume: number;
  /** 0..1 signal strength; low means a poor connection. */
  signal: number;
  video: boolean;
  sharing: boolean;
  activeSpeaker: boolean;
  joinedAt: number;
  /** Presence says the attendee's connection dropped: kept, shown as reconnecting, until it returns or DROPPED_KEEP_MS pass. */
  droppedAt: number | undefined;
}

/** How long someone whose connection dropped stays on screen as "reconnecting" (the SDK retries about this long). */
export const DROPPED_KEEP_MS = 60_000;

/** Above this normalised volume an unmuted attendee counts as speaking. */
export const SPEAKING_THRESHOLD = 0.15;

export function isSpeaking(entry: Pick<RosterEntry, 'muted' | 'volume'>): boolean {
  return !entry.muted && entry.volume >= SPEAKING_THRESHOLD;
}

export interface RosterState {
  attendees: Record<string, RosterEntry>;
  presence(attendeeId: string, present: boolean, externalUserId: string | undefined, at: number, dropped?: boolean): void;
  /** Forgets people who dropped more than DROPPED_KEEP_MS ago. */
  expireDropped(now: number): void;
  volume(attendeeId: string, volume: number | null, muted: boolean | null, signal: number | null): void;
  setVideo(attendeeId: string, video: boolean): void;
  setActiveSpeakers(attendeeIds: string[]): void;
  reset(): void;
}

function blank(attendeeId: string, name: string, at: number): RosterEntry {
  return { attendeeId, name, present: true, muted: false, volume: 0, signal: 1, video: false, sharing: false, activeSpeaker: false, joinedAt: at, droppedAt: undefined };
}

export const useRosterStore = create<RosterState>((set) => ({
  attendees: {},
  presence: (attendeeId, present, externalUserId, at, dropped = false) =>
    set((state) => {
      // A content share (`<id>#content`) is a badge on its owner, not a person.
      if (isContentAttendee(attendeeId)) {
        const owner = state.attendees[baseAttendeeId(attendeeId)];
        if (!owner) return state;
        return { attendees: { ...state.attendees, [owner.attendeeId]: { ...owner, sharing: present } } };
      }
      const existing = state.attendees[attendeeId];
      if (!present) {
        if (!existing) return state;
        // A dropped connection may come back: keep the person, marked, rather than make them vanish.
        if (dropped) return { attendees: { ...state.attendees, [attendeeId]: { ...existing, droppedAt: at, activeSpeaker: false, volume: 0 } } };
        const { [attendeeId]: _gone, ...rest } = state.attendees;
        return { attendees: rest };
      }
      const name = displayNameOf(externalUserId, existing?.name ?? GUEST_NAME);
      return { attendees: { ...state.attendees, [attendeeId]: existing ? { ...existing, name, present: true, droppedAt: undefined } : blank(attendeeId, name, at) } };
    }),
  expireDropped: (now) =>
    set((state) => {
      const expired = Object.values(state.attendees).filter((e) => e.droppedAt !== undefined && now - e.droppedAt > DROPPED_KEEP_MS);
      if (expired.length === 0) return state;
      const attendees = { ...state.attendees };
      for (const e of expired) delete attendees[e.attendeeId];
      return { attendees };
    }),
  volume: (attendeeId, volume, muted, signal) =>
    set((state) => {
      const existing = state.attendees[attendeeId];
      if (!existing) return state;
      const next = {
        ...existing,
        ...(volume !== null ? { volume } : {}),
        ...(muted !== null ? { muted } : {}),
        ...(signal !== null ? { signal } : {}),
      };
      if (next.muted) next.volume = 0;
      if (next.volume === existing.volume && next.muted === existing.muted && next.signal === existing.signal) return state;
      return { attendees: { ...state.attendees, [attendeeId]: next } };
    }),
  setVideo: (attendeeId, video) =>
    set((state) => {
      const existing = state.attendees[attendeeId];
      if (!existing || existing.video === video) return state;
      return { attendees: { ...state.attendees, [attendeeId]: { ...existing, video } } };
    }),
  setActiveSpeakers: (attendeeIds) =>
    set((state) => {
      // The policy ranks everyone; only the loudest one gets the highlight.
      const top = attendeeIds[0];
      const attendees: Record<string, RosterEntry> = {};
      let changed = false;
      for (const [id, entry] of Object.entries(state.attendees)) {
        const active = id === top && !entry.muted;
        changed ||= active !== entry.activeSpeaker;
        attendees[id] = active === entry.activeSpeaker ? entry : { ...entry, activeSpeaker: active };
      }
      return changed ? { attendees } : state;
    }),
  reset: () => set({ attendees: {} }),
}));

/** Self first, then people sharing, then by join order: stable, so tiles do not jump around. */
export function orderedRoster(attendees: Record<string, RosterEntry>, selfId: string | undefined): RosterEntry[] {
  return Object.values(attendees).sort((a, b) => {
    if (a.attendeeId === selfId) return -1;
    if (b.attendeeId === selfId) return 1;
    if (a.joinedAt !== b.joinedAt) return a.joinedAt - b.joinedAt;
    return a.name.localeCompare(b.name);
  });
}
