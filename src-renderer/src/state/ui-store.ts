import { create } from 'zustand';
import type { AppErrorReason } from '../../../src-main/shared/app-api.js';
import type { ApiFailure } from '../api/app-api';
import type { JoinOptions } from '../meeting/join-options';
import { announce } from './announcer-store';

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
  | { name: 'lobby'; target: JoinTarget; ticket: string; options: JoinOptions; meetingName: string }
  | { name: 'meeting' }
  | { name: 'ended' }
  | { name: 'unavailable'; target: JoinTarget; failure: ApiFailure; message: string; reason?: AppErrorReason };

export type Panel = 'none' | 'chat' | 'roster';
export type Layout = 'grid' | 'speaker';

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
  layout: Layout;
  /** A pinned participant takes the stage (speaker view) whoever speaks. */
  pinned: string | undefined;
  /** With two content shares, the one chosen for the stage. */
  chosenContentTileId: number | undefined;
  /** The participant whose removal waits for confirmation. */
  confirmRemove: { attendeeId: string; name: string } | undefined;
  go(screen: Screen): void;
  setLayout(layout: Layout): void;
  pin(attendeeId: string | undefined): void;
  chooseContent(tileId: number | undefined): void;
  askRemove(target: { attendeeId: string; name: string } | undefined): void;
  togglePanel(panel: Exclude<Panel, 'none'>): void;
  closePanel(): void;
  setInviteOpen(open: boolean): void;
  /** Shows a notice; it is also announced to screen readers unless `silent` (the caller announces it its own way). */
  toast(text: string, tone?: Toast['tone'], silent?: boolean): void;
  dismissToast(id: number): void;
}

let nextToast = 1;

export const useUiStore = create<UiState>((set) => ({
  screen: { name: 'home' },
  panel: 'none',
  inviteOpen: false,
  toasts: [],
  layout: 'grid',
  pinned: undefined,
  chosenContentTileId: undefined,
  confirmRemove: undefined,
  go: (screen) => set({ screen, panel: 'none', inviteOpen: false, pinned: undefined, chosenContentTileId: undefined, confirmRemove: undefined }),
  setLayout: (layout) => set({ layout }),
  // Pinning someone shows them large: in the grid that means switching to speaker view.
  pin: (pinned) => set((s) => ({ pinned, layout: pinned ? 'speaker' : s.layout })),
  chooseContent: (chosenContentTileId) => set({ chosenContentTileId }),
  askRemove: (confirmRemove) => set({ confirmRemove }),
  togglePanel: (panel) => set((state) => ({ panel: state.panel === panel ? 'none' : panel })),
  closePanel: () => set({ panel: 'none' }),
  setInviteOpen: (inviteOpen) => set({ inviteOpen }),
  // Every notice is also said to screen readers (the toast stack itself is not a live region, so nothing is read twice).
  toast: (text, tone = 'info', silent = false) => {
    if (!silent) announce(text, tone === 'warning' ? 'assertive' : 'polite');
    set((state) => ({ toasts: [...state.toasts.slice(-3), { id: nextToast++, text, tone }] }));
  },
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
