import { create } from 'zustand';
import type { ConnectionVerdict, LiveState, Role } from '../../../src-main/shared/app-api.js';

/** The meeting's moderation state as the server last sent it (roles, hands, locks, lobby, connections). */
export interface LiveStoreState {
  live: LiveState | undefined;
  set(live: LiveState): void;
  reset(): void;
}

export const useLiveStore = create<LiveStoreState>((set) => ({
  live: undefined,
  set: (live) => set({ live }),
  reset: () => set({ live: undefined }),
}));

export function roleOf(live: LiveState | undefined, attendeeId: string): Role {
  return live?.roles[attendeeId] ?? 'guest';
}

export function verdictOf(live: LiveState | undefined, attendeeId: string): ConnectionVerdict {
  return live?.connections[attendeeId] ?? 'good';
}

/**
 * The raised hands of people who are here, in raise order: the server keeps a hand until
 * it hears its owner left, and presence tells us sooner.
 */
export function visibleHands(live: LiveState | undefined, present: Record<string, unknown>): LiveState['hands'] {
  return (live?.hands ?? []).filter((h) => h.attendeeId in present);
}

/** 1-based place in the raised-hand queue, or 0. */
export function handPosition(live: LiveState | undefined, attendeeId: string, present?: Record<string, unknown>): number {
  const hands = present ? visibleHands(live, present) : (live?.hands ?? []);
  return hands.findIndex((h) => h.attendeeId === attendeeId) + 1;
}

export function isModerator(live: LiveState | undefined): boolean {
  return live?.self.role === 'host' || live?.self.role === 'cohost';
}
