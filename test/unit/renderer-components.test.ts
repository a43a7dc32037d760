// @vitest-environment happy-dom
import { act, createElement, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControlBar } from '../../src-renderer/src/components/ControlBar';
import { ParticipantTile } from '../../src-renderer/src/components/VideoTile';
import { RosterPanel } from '../../src-renderer/src/components/RosterPanel';
import { ChatPanel } from '../../src-renderer/src/components/ChatPanel';
import { CapturePicker } from '../../src-renderer/src/components/CapturePicker';
import type { CapturePickerRequest } from '../../src-main/shared/desktop-api';
import { EndScreen } from '../../src-renderer/src/screens/EndScreen';
import { MeetingTimer } from '../../src-renderer/src/screens/MeetingScreen';
import type { LiveState } from '../../src-main/shared/app-api';
import { useChatStore } from '../../src-renderer/src/state/chat-store';
import { useLiveStore } from '../../src-renderer/src/state/live-store';
import { useRosterStore, type RosterEntry } from '../../src-renderer/src/state/roster-store';
import { useSessionStore } from '../../src-renderer/src/state/session-store';
import { useUiStore } from '../../src-renderer/src/state/ui-store';

/** Components rendered from the real stores into a DOM: what people and screen readers get to see. */
const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const identity = (isHost: boolean) => ({ serverUrl: 'http://x', meetingCode: 'abc-defg-hij', meetingName: 'Sync', isHost, ...(isHost ? { hostKey: 'k' } : {}), selfAttendeeId: A, joinToken: 'token', selfName: 'Ann' });

function entry(extra: Partial<RosterEntry>): RosterEntry {
  return { attendeeId: B, name: 'Ben', present: true, muted: false, volume: 0, signal: 1, video: false, sharing: false, activeSpeaker: false, joinedAt: 1, droppedAt: undefined, ...extra };
}

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
const mounted: (() => void)[] = [];

/** Mounts into a real (happy-dom) document through React's client renderer, effects included. */
function mount(element: ReactElement): HTMLElement {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(element));
  mounted.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  return container;
}

/** The HTML a component renders; unmounted at once, so later store changes update nothing. */
function renderToStaticMarkup(element: ReactElement): string {
  const html = mount(element).innerHTML;
  mounted.pop()!();
  return html;
}

afterEach(() => {
  for (const unmount of mounted.splice(0)) unmount();
});

beforeEach(() => {
  useSessionStore.getState().reset();
  useRosterStore.getState().reset();
  useChatStore.getState().reset();
});

describe('ParticipantTile', () => {
  it('shows initials without video, a video element with it, and announces mute and speaking', () => {
    const quiet = renderToStaticMarkup(createElement(ParticipantTile, { entry: entry({ muted: true }), tile: undefined, self: false }));
    expect(quiet).toContain('aria-label="Ben, muted"');
    expect(quiet).toContain('>BE</div>');
    expect(quiet).toContain('data-testid="tile-muted"');
    expect(quiet).not.toContain('<video');
    const talking = renderToStaticMarkup(
      createElement(ParticipantTile, { entry: entry({ volume: 0.9, activeSpeaker: true }), tile: { tileId: 7, attendeeId: B, local: false, content: false, hasVideo: true, paused: false, poorConnection: false }, self: false }),
    );
    expect(talking).toContain('aria-label="Ben, speaking"');
    expect(talking).toContain('active-speaker');
    expect(talking).toContain('data-tile-id="7"');
    const self = renderToStaticMarkup(createElement(ParticipantTile, { entry: entry({ name: 'Ann', attendeeId: A }), tile: { tileId: 1, attendeeId: A, local: true, content: false, hasVideo: true, paused: false, poorConnection: false }, self: true }));
    expect(self).toContain('Ann (you)');
    expect(self).toContain('mirror');
  });
});

describe('ControlBar', () => {
  it('labels every control, shows the unread count and the shortcut', () => {
    useSessionStore.getState().begin(identity(false), { muted: true, cameraOn: false });
    useChatStore.getState().add({ id: '1', senderId: B, senderName: 'Ben', text: 'hi', timestampMs: 1, self: false, status: 'sent' });
    const html = renderToStaticMarkup(createElement(ControlBar));
    expect(html).toMatch(/aria-label="Unmute \((Ctrl\+D|⌘D)\)"/);
    expect(html).toMatch(/aria-label="Start camera/);
    expect(html).toContain('aria-label="Chat, 1 unread"');
    expect(html).toContain('data-testid="unread-badge"');
    for (const label of ['Participants', 'Invite people', 'Leave meeting', 'Send a reaction', 'Audio and video settings']) expect(html).toContain(`aria-label="${label}"`);
    const buttons = html.match(/<button[^>]*>/g) ?? [];
    for (const b of buttons) expect(b, b).toMatch(/aria-label="[^"]+"/);
  });
});

describe('RosterPanel', () => {
  it('offers mute and remove to the host only, never for themselves', () => {
    const roster = useRosterStore.getState();
    roster.presence(A, true, 'xxxxxx#Ann', 1);
    roster.presence(B, true, 'yyyyyy#Ben', 2);
    useSessionStore.getState().begin(identity(true), { muted: false, cameraOn: true });
    const asHost = renderToStaticMarkup(createElement(RosterPanel, { onClose: () => undefined }));
    expect(asHost).toContain('People (2)');
    expect(asHost).toContain('aria-label="Mute Ben"');
    expect(asHost).toContain('aria-label="Remove Ben"');
    expect(asHost).not.toContain('aria-label="Remove Ann"');
    useSessionStore.getState().begin(identity(false), { muted: false, cameraOn: true });
    const asGuest = renderToStaticMarkup(createElement(RosterPanel, { onClose: () => undefined }));
    expect(asGuest).not.toContain('Remove Ben');
  });
});

describe('EndScreen', () => {
  it('says why the meeting is over, and offers rejoin only where it can work', () => {
    const s = useSessionStore.getState();
    s.begin(identity(false), { muted: false, cameraOn: false });
    s.ended('removed');
    const removed = renderToStaticMarkup(createElement(EndScreen));
    expect(removed).toContain('You were removed from the meeting');
    expect(removed).not.toContain('Rejoin');
    s.reset();
    s.begin(identity(false), { muted: false, cameraOn: false });
    s.ended('left');
    const left = renderToStaticMarkup(createElement(EndScreen));
    expect(left).toContain('You left the meeting');
    expect(left).toContain('Rejoin');
  });
});

describe('ChatPanel', () => {
  it('clears the unread count when opened, shows names, and shows failed messages as not sent', () => {
    const chat = useChatStore.getState();
    chat.add({ id: '1', senderId: B, senderName: 'Ben', text: 'hello <b>there</b>', timestampMs: 1_700_000_000_000, self: false, status: 'sent' });
    chat.add({ id: '2', senderId: A, senderName: 'Ann', text: 'too long', timestampMs: 1_700_000_001_000, self: true, status: 'failed', failure: 'Too long to send' });
    expect(useChatStore.getState().unread).toBe(1);
    const html = renderToStaticMarkup(createElement(ChatPanel, { onClose: () => undefined }));
    expect(useChatStore.getState().unread).toBe(0);
    expect(html).toContain('Ben');
    expect(html).toContain('hello &lt;b&gt;there&lt;/b&gt;');
    expect(html).toContain('Not sent: Too long to send');
    expect(html).toContain('data-status="failed"');
  });
});

describe('EndScreen buttons', () => {
  it('"Back to start" goes home', () => {
    useSessionStore.getState().begin(identity(false), { muted: false, cameraOn: false });
    useSessionStore.getState().ended('ended');
    useUiStore.getState().go({ name: 'ended' });
    mount(createElement(EndScreen));
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Back to start')!;
    act(() => button.click());
    expect(useUiStore.getState().screen).toEqual({ name: 'home' });
  });
});

describe('CapturePicker (desktop)', () => {
  // The preload's real picker round trip is covered by desktop-main-process; here only the
  // renderer side: a stand-in for window.chorusDesktop delivers requests and records choices.
  it('focuses the first source when a picker opens, keeps the focus across thumbnail refreshes, and answers with the request id', async () => {
    let deliver: ((request: CapturePickerRequest) => void) | undefined;
    const choices: [string, unknown][] = [];
    (globalThis as Record<string, unknown>).chorusDesktop = {
      kind: 'chorus-desktop',
      capture: {
        onPickerRequest: (cb: (request: CapturePickerRequest) => void) => { deliver = cb; return () => { deliver = undefined; }; },
        choose: async (requestId: string, choice: unknown) => { choices.push([requestId, choice]); },
      },
    };
    try {
      const sources = (n: number) => [
        { id: 'screen:1', name: 'Entire screen', kind: 'screen' as const, thumbnailDataUrl: `data:image/png;base64,${n}` },
        { id: 'window:2', name: 'Editor', kind: 'window' as const, thumbnailDataUrl: `data:image/png;base64,${n}` },
      ];
      const container = mount(createElement(CapturePicker));
      act(() => deliver!({ requestId: 'r1', sources: sources(1), audioAvailable: false }));
      const buttons = () => [...container.querySelectorAll<HTMLButtonElement>('button.picker-source')];
      expect(document.activeElement).toBe(buttons()[0]);

      buttons()[1]!.focus();
      act(() => deliver!({ requestId: 'r1', sources: sources(2), audioAvailable: false }));
      expect(document.activeElement?.getAttribute('aria-label')).toBe('Share Editor');

      act(() => buttons()[1]!.click());
      expect(choices).toEqual([['r1', { sourceId: 'window:2', audio: false }]]);
      expect(buttons()).toHaveLength(0);
    } finally {
      delete (globalThis as Record<string, unknown>).chorusDesktop;
    }
  });
});

describe('moderation in the roster and controls', () => {
  const live = (self: { role: 'host' | 'cohost' | 'guest'; audioLocked?: boolean; askedToUnmute?: boolean }, extra: Partial<LiveState> = {}): LiveState => ({
    version: 2,
    startedAt: 0,
    serverNow: 0,
    lobbyEnabled: true,
    self: { role: self.role, audioLocked: self.audioLocked ?? false, askedToUnmute: self.askedToUnmute ?? false },
    roles: {},
    hands: [],
    audioLocked: [],
    connections: {},
    unmuteRequests: [],
    waiting: [],
    banned: [],
    ...extra,
  });

  beforeEach(() => {
    useLiveStore.getState().reset();
    const roster = useRosterStore.getState();
    roster.presence(A, true, 'xxxxxx#Ann', 1);
    roster.presence(B, true, 'yyyyyy#Ben', 2);
  });

  it('shows moderators the lobby, unmute requests, hands and bans, each with its action; guests see the hands only', () => {
    useSessionStore.getState().begin(identity(false), { muted: false, cameraOn: false });
    const state = live({ role: 'cohost' }, {
      roles: { [B]: 'host', [A]: 'cohost' },
      hands: [{ attendeeId: B, name: 'Ben', raisedAt: 1 }],
      waiting: [{ id: 'w1', name: 'Wanda', since: 1 }],
      unmuteRequests: [{ attendeeId: B, name: 'Ben', at: 1 }],
      banned: [{ id: 'b1', name: 'Boris', at: 1 }],
      connections: { [B]: 'lost' },
    });
    useLiveStore.getState().set(state);
    const html = renderToStaticMarkup(createElement(RosterPanel, { onClose: () => undefined }));
    expect(html).toContain('Waiting in the lobby (1)');
    expect(html).toContain('aria-label="Admit Wanda"');
    expect(html).toContain('Asking to unmute (1)');
    expect(html).toContain('Raised hands (1)');
    expect(html).toContain('aria-label="Allow Boris back into the meeting"');
    expect(html).toContain('aria-label="Connection: Reconnecting"');
    // A co-host has no actions on the host.
    expect(html).not.toContain('aria-label="Remove Ben"');
    useLiveStore.getState().set(live({ role: 'guest' }, { hands: state.hands, waiting: [], banned: [], unmuteRequests: [] }));
    const guest = renderToStaticMarkup(createElement(RosterPanel, { onClose: () => undefined }));
    expect(guest).toContain('Raised hands (1)');
    expect(guest).not.toContain('data-testid="mute-all"');
    expect(guest).not.toContain('aria-label="Lower Ben&#x27;s hand"');
  });

  it('a locked microphone offers "Ask to unmute", then shows it was asked', () => {
    useSessionStore.getState().begin(identity(false), { muted: true, cameraOn: false });
    useLiveStore.getState().set(live({ role: 'guest', audioLocked: true }));
    const locked = renderToStaticMarkup(createElement(ControlBar));
    expect(locked).toContain('aria-label="The host muted you. Ask to unmute"');
    expect(locked).toContain('data-locked="true"');
    useLiveStore.getState().set(live({ role: 'guest', audioLocked: true, askedToUnmute: true }));
    const asked = renderToStaticMarkup(createElement(ControlBar));
    expect(asked).toMatch(/aria-label="You asked the host to let you unmute"[^>]*disabled=""/);
  });
});

describe('meeting timer', () => {
  it('runs on its own between live states, on the server clock', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(1_000_000);
      // The server's clock is 5 s ahead; the meeting started 60 s ago by it.
      useLiveStore.getState().set({ version: 1, startedAt: 1_005_000 - 60_000, serverNow: 1_005_000, lobbyEnabled: false, self: { role: 'guest', audioLocked: false, askedToUnmute: false }, roles: {}, hands: [], audioLocked: [], connections: {}, unmuteRequests: [], waiting: [], banned: [] });
      const el = mount(createElement(MeetingTimer));
      expect(el.textContent).toContain('01:00');
      act(() => vi.advanceTimersByTime(3_000));
      expect(el.textContent).toContain('01:03');
      act(() => vi.advanceTimersByTime(3_600_000));
      expect(el.textContent).toContain('1:01:03');
    } finally {
      vi.useRealTimers();
    }
  });
});
