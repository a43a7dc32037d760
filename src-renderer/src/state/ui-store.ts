import { create } from 'zustand';
import type { ApiFailure } from '../api/app-api';

/** Where the pre-join screen is headed: a meeting on a server, maybe as its host. */
export interface JoinTarget {
  serverUrl: string;
  meetingCode: string;
  fingerprint?: string;
  hostKey?: string;
}

export type Screen =
  | { name: 'home' }
  | { name: 'prejoin'; target: JoinTarget }
  | { name: 'meeting' }
  | { name: 'ended' }
  | { name: 'unavailable'; target: JoinTarget; failure: ApiFailure; message: string };

export type Panel = 'none' | 'chat' | 'roster';

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'warning';
}

export interface UiState {
  screen: Screen;
  panel: Panel;
  inviteOpen: boolean;
  toasts: Toast[];
  go(screen: Screen): void;
  togglePanel(panel: Exclude<Panel, 'none'>): void;
  closePanel(): void;
  setInviteOpen(open: boolean): void;
  toast(text: string, tone?: Toast['tone']): void;
  dismissToast(id: number): void;
}

let nextToast = 1;

export const useUiStore = create<UiState>((set) => ({
  screen: { name: 'home' },
  panel: 'none',
  inviteOpen: false,
  toasts: [],
  go: (screen) => set({ screen, panel: 'none', inviteOpen: false }),
  togglePanel: (panel) => set((state) => ({ panel: state.panel === panel ? 'none' : panel })),
  closePanel: () => set({ panel: 'none' }),
  setInviteOpen: (inviteOpen) => set({ inviteOpen }),
  toast: (text, tone = 'info') => set((state) => ({ toasts: [...state.toasts.slice(-3), { id: nextToast++, text, tone }] })),
  dismissToast: (id) => set((state) => ({ toasts: state.toasts.filter((t) => t.id !== id) })),
}));

/**
 * The screen a fresh page load starts on: `/join/<code>` (an invite link opened in a
 * browser) goes straight to the device check; `#host=<key>` there marks the host.
 */
export function initialScreen(location: { pathname: string; search: string; hash: string; origin: string }, codePattern: RegExp): Screen {
  const match = /^\/join\/([^/]+)\/?$/.exec(location.pathname);
  if (!match || !codePattern.test(match[1]!)) return { name: 'home' };
  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fingerprint = params.get('fp') ?? undefined;
  const hostKey = hash.get('host') ?? undefined;
  return { name: 'prejoin', target: { serverUrl: location.origin, meetingCode: match[1]!, ...(fingerprint ? { fingerprint } : {}), ...(hostKey ? { hostKey } : {}) } };
}
