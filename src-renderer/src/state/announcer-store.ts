import { create } from 'zustand';

/**
 * What screen readers are told as it happens (joins, leaves, hands, connection
 * trouble): two live regions, polite and assertive. Each message carries an id
 * so the same words said twice are announced twice.
 */
export interface Announcement {
  id: number;
  text: string;
}

export interface AnnouncerState {
  polite: Announcement | undefined;
  assertive: Announcement | undefined;
  /** Recent announcements, newest last (a log for tests and for people who missed one). */
  history: string[];
  announce(text: string, urgency?: 'polite' | 'assertive'): void;
  reset(): void;
}

let next = 1;

export const useAnnouncerStore = create<AnnouncerState>((set) => ({
  polite: undefined,
  assertive: undefined,
  history: [],
  announce: (text, urgency = 'polite') =>
    set((s) => ({ [urgency]: { id: next++, text }, history: [...s.history.slice(-49), text] })),
  reset: () => set({ polite: undefined, assertive: undefined, history: [] }),
}));

export function announce(text: string, urgency: 'polite' | 'assertive' = 'polite'): void {
  useAnnouncerStore.getState().announce(text, urgency);
}
