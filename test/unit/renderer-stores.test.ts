import { beforeEach, describe, expect, it } from 'vitest';
import { gridShape } from '../../src-renderer/src/lib/grid-layout';
import { baseAttendeeId, displayNameOf, initialsOf, isContentAttendee } from '../../src-renderer/src/lib/names';
import { loadPrefs, loadRecent, rememberMeeting, savePrefs, type KeyValueStorage } from '../../src-renderer/src/lib/prefs';
import { useChatStore } from '../../src-renderer/src/state/chat-store';
import { reconcileDevice, toOptions, useDevicesStore } from '../../src-renderer/src/state/devices-store';
import { DROPPED_KEEP_MS, isSpeaking, orderedRoster, useRosterStore } from '../../src-renderer/src/state/roster-store';
import { useSessionStore } from '../../src-renderer/src/state/session-store';
import { cameraTilesByAttendee, contentTiles, ownContentTile, stageContentTile, useTilesStore, type Tile } from '../../src-renderer/src/state/tiles-store';
import { initialScreen, useUiStore } from '../../src-renderer/src/state/ui-store';
import { MEETING_CODE_PATTERN } from '../../src-main/shared/invite-link';
import type { LiveState } from '../../src-main/shared/app-api';
import { forgetPasscode, recallSecrets, rememberSecrets } from '../../src-renderer/src/lib/session-memory';
import { handPosition, visibleHands } from '../../src-renderer/src/state/live-store';
import { useAnnouncerStore } from '../../src-renderer/src/state/announcer-store';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

beforeEach(() => {
  useRosterStore.getState().reset();
  useTilesStore.getState().reset();
  useChatStore.getState().reset();
  useSessionStore.getState().reset();
});

describe('names', () => {
  it('shows the display name from an app ExternalUserId, anything else as is', () => {
    expect(displayNameOf('Ab3_-x#Zoë #1')).toBe('Zoë #1');
    expect(displayNameOf('alice')).toBe('alice');
    expect(displayNameOf(undefined)).toBe('Guest');
    expect(isContentAttendee(`${A}#content`)).toBe(true);
    expect(baseAttendeeId(`${A}#content`)).toBe(A);
    expect(initialsOf('ada lovelace byron')).toBe('AB');
    expect(initialsOf('Bo')).toBe('BO');
  });
});

describe('roster store', () => {
  it('tracks presence, names, volume/mute from the volume indicator and content-share badges', () => {
    const roster = useRosterStore.getState();
    roster.presence(A, true, 'xxxxxx#Ann', 1);
    roster.presence(B, true, 'yyyyyy#Ben', 2);
    roster.volume(A, 0.8, false, 1);
    expect(isSpeaking(useRosterStore.getState().attendees[A]!)).toBe(true);
    roster.volume(A, null, true, null);
    const muted = useRosterStore.getState().attendees[A]!;
    expect(muted).toMatchObject({ muted: true, volume: 0 });
    expect(isSpeaking(muted)).toBe(false);
    roster.presence(`${B}#content`, true, 'yyyyyy#Ben', 3);
    expect(useRosterStore.getState().attendees[B]!.sharing).toBe(true);
    expect(Object.keys(useRosterStore.getState().attendees)).toHaveLength(2);
    roster.presence(`${B}#content`, false, undefined, 4);
    expect(useRosterStore.getState().attendees[B]!.sharing).toBe(false);
    roster.presence(A, false, undefined, 5);
    expect(Object.keys(useRosterStore.getState().attendees)).toEqual([B]);
    // Updates for unknown attendees are ignored, not invented.
    roster.volume(A, 1, false, 1);
    expect(useRosterStore.getState().attendees[A]).toBeUndefined();
  });

  it('highlights only the top active speaker, never a muted one, and orders self first then by join time', () => {
    const roster = useRosterStore.getState();
    roster.presence(B, true, 'Ben', 1);
    roster.presence(A, true, 'Ann', 2);
    roster.setActiveSpeakers([B, A]);
    expect(useRosterStore.getState().attendees[B]!.activeSpeaker).toBe(true);
    expect(useRosterStore.getState().attendees[A]!.activeSpeaker).toBe(false);
    roster.volume(A, null, true, null);
    roster.setActiveSpeakers([A]);
    expect(useRosterStore.getState().attendees[A]!.activeSpeaker).toBe(false);
    expect(orderedRoster(useRosterStore.getState().attendees, A).map((e) => e.name)).toEqual(['Ann', 'Ben']);
    expect(orderedRoster(useRosterStore.getState().attendees, undefined).map((e) => e.name)).toEqual(['Ben', 'Ann']);
  });
});

describe('tiles store', () => {
  const tile = (tileId: number, attendeeId: string, extra: Partial<Tile> = {}): Tile => ({ tileId, attendeeId, local: false, content: false, hasVideo: true, paused: false, poorConnection: false, ...extra });
  it('keeps camera tiles by attendee; our own share never takes the stage, a second share does not replace the first unless chosen', () => {
    const C = 'cccccccc-0000-4000-8000-000000000003';
    const tiles = useTilesStore.getState();
    tiles.upsert(tile(1, A, { local: true }));
    tiles.upsert(tile(2, B));
    // The SDK shows our own share as a non-local tile of `<self>#content`.
    tiles.upsert(tile(3, `${A}#content`, { content: true }));
    let state = useTilesStore.getState().tiles;
    expect([...cameraTilesByAttendee(state).keys()].sort()).toEqual([A, B]);
    expect(stageContentTile(state, A)).toBeUndefined();
    expect(ownContentTile(state, A)?.tileId).toBe(3);
    tiles.upsert(tile(4, `${B}#content`, { content: true }));
    tiles.upsert(tile(5, `${C}#content`, { content: true }));
    state = useTilesStore.getState().tiles;
    expect(contentTiles(state, A).map((c) => [c.tile.tileId, c.own])).toEqual([[3, true], [4, false], [5, false]]);
    expect(stageContentTile(state, A)?.tileId).toBe(4);
    expect(stageContentTile(state, A, 5)?.tileId).toBe(5);
    tiles.remove(5);
    expect(stageContentTile(useTilesStore.getState().tiles, A, 5)?.tileId).toBe(4);
    tiles.upsert(tile(2, B, { hasVideo: false }));
    expect(cameraTilesByAttendee(useTilesStore.getState().tiles).has(B)).toBe(false);
    const before = useTilesStore.getState().tiles;
    tiles.upsert(tile(2, B, { hasVideo: false }));
    expect(useTilesStore.getState().tiles).toBe(before);
    tiles.remove(4);
    tiles.remove(3);
    expect(stageContentTile(useTilesStore.getState().tiles, A)).toBeUndefined();
  });
});

describe('devices', () => {
  const mics = [
    { deviceId: 'default', label: 'Default' },
    { deviceId: 'usb', label: 'USB mic' },
  ];
  it('keeps a present device, falls back with a notice when the one in use is unplugged', () => {
    expect(reconcileDevice('audioinput', mics, 'usb', mics)).toEqual({ deviceId: 'usb' });
    expect(reconcileDevice('audioinput', mics, undefined)).toEqual({ deviceId: 'default' });
    const lost = reconcileDevice('audioinput', [mics[0]!], 'usb', mics);
    expect(lost.deviceId).toBe('default');
    expect(lost.notice).toMatch(/microphone was disconnected; switched to Default/);
    expect(reconcileDevice('videoinput', [], 'cam', [{ deviceId: 'cam', label: 'Cam' }]).notice).toMatch(/no other camera/);
    // A remembered device that is not here (another machine) falls back quietly...
    expect(reconcileDevice('audioinput', mics, 'gone-since-last-week', [])).toEqual({ deviceId: 'default' });
    // ...and an empty list (no permission yet: browsers hide ids) keeps the choice.
    expect(reconcileDevice('audioinput', [], 'usb', [])).toEqual({ deviceId: 'usb' });

    const store = useDevicesStore.getState();
    store.select('audioinput', 'usb');
    expect(store.setList('audioinput', mics)).toBeUndefined();
    expect(useDevicesStore.getState().selected.audioinput).toBe('usb');
    expect(store.setList('audioinput', [mics[0]!])).toMatch(/disconnected/);
    expect(useDevicesStore.getState().selected.audioinput).toBe('default');
    expect(useDevicesStore.getState().notice).toMatch(/disconnected/);
  });
  it('labels devices that have no label yet', () => {
    expect(toOptions('videoinput', [{ deviceId: 'x', label: '', kind: 'videoinput' }, { deviceId: 'y', label: 'Mic', kind: 'audioinput' }])).toEqual([{ deviceId: 'x', label: 'Camera 1' }]);
  });
});

describe('chat store', () => {
  it('counts unread while closed, sorts history by send time, de-duplicates and marks failures', () => {
    const chat = useChatStore.getState();
    const msg = (id: string, t: number, self = false) => ({ id, senderId: A, senderName: 'Ann', text: id, timestampMs: t, self, status: 'sent' as const });
    chat.add(msg('late', 20));
    chat.add(msg('early', 10));
    chat.add(msg('early', 10));
    chat.add(msg('mine', 30, true));
    expect(useChatStore.getState().messages.map((m) => m.id)).toEqual(['early', 'late', 'mine']);
    expect(useChatStore.getState().unread).toBe(2);
    chat.setOpen(true);
    expect(useChatStore.getState().unread).toBe(0);
    chat.add(msg('while-open', 40));
    expect(useChatStore.getState().unread).toBe(0);
    chat.setStatus('mine', 'failed', 'throttled');
    expect(useChatStore.getState().messages.find((m) => m.id === 'mine')).toMatchObject({ status: 'failed', failure: 'throttled' });
  });
  it('expires reactions', () => {
    const chat = useChatStore.getState();
    chat.addReaction({ id: '1', emoji: '👍', senderName: 'Ann', at: 0 });
    chat.addReaction({ id: '2', emoji: '🎉', senderName: 'Ben', at: 3000 });
    chat.expireReactions(4500);
    expect(useChatStore.getState().reactions.map((r) => r.id)).toEqual(['2']);
  });
});

describe('session store', () => {
  it('keeps the first end reason, and ignores connection events after the end', () => {
    const s = useSessionStore.getState();
    s.begin({ serverUrl: 'http://x', meetingCode: 'abc-defg-hij', meetingName: 'M', isHost: false, selfAttendeeId: A, joinToken: 't', selfName: 'Ann' }, { muted: true, cameraOn: false });
    expect(useSessionStore.getState()).toMatchObject({ phase: 'connecting', muted: true, cameraOn: false });
    s.connecting(true);
    expect(useSessionStore.getState().phase).toBe('reconnecting');
    s.connected();
    s.ended('removed');
    s.ended('left');
    s.connected();
    expect(useSessionStore.getState()).toMatchObject({ phase: 'ended', end: { reason: 'removed' } });
  });
});

describe('ui: where a page load starts', () => {
  const loc = (pathname: string, search = '', hash = '') => ({ pathname, search, hash, origin: 'https://10.0.0.2:8443' });
  it('opens the device check for an invite link, with the fingerprint and a host key from the fragment', () => {
    expect(initialScreen(loc('/join/abc-defg-hij', '?fp=AB', '#host=k3y'), MEETING_CODE_PATTERN)).toEqual({
      name: 'prejoin',
      target: { serverUrl: 'https://10.0.0.2:8443', meetingCode: 'abc-defg-hij', fingerprint: 'AB', hostKey: 'k3y' },
    });
    expect(initialScreen(loc('/'), MEETING_CODE_PATTERN)).toEqual({ name: 'home' });
    expect(initialScreen(loc('/join/NOT-a-code'), MEETING_CODE_PATTERN)).toEqual({ name: 'home' });
  });
  it('toggles panels and closes them on navigation', () => {
    const ui = useUiStore.getState();
    ui.togglePanel('chat');
    expect(useUiStore.getState().panel).toBe('chat');
    ui.togglePanel('roster');
    expect(useUiStore.getState().panel).toBe('roster');
    ui.togglePanel('roster');
    expect(useUiStore.getState().panel).toBe('none');
    ui.togglePanel('chat');
    ui.go({ name: 'home' });
    expect(useUiStore.getState().panel).toBe('none');
  });
});

describe('grid layout', () => {
  it('reflows 1..17 tiles into the arrangement with the largest 16:9 tiles', () => {
    const shapes = Array.from({ length: 17 }, (_, i) => {
      const { columns, rows } = gridShape(i + 1, 1280, 720);
      return { columns, rows };
    });
    for (const [i, s] of shapes.entries()) expect(s.columns * s.rows).toBeGreaterThanOrEqual(i + 1);
    expect(shapes[0]).toEqual({ columns: 1, rows: 1 });
    expect(shapes[1]).toEqual({ columns: 2, rows: 1 });
    expect(shapes[3]).toEqual({ columns: 2, rows: 2 });
    expect(shapes[8]).toEqual({ columns: 3, rows: 3 });
    expect(shapes[15]).toEqual({ columns: 4, rows: 4 });
    // A tall, narrow window stacks instead.
    expect(gridShape(2, 400, 900)).toMatchObject({ columns: 1, rows: 2 });
    // Tiles fit the area including the gaps between them.
    const { columns, rows, tileWidth } = gridShape(5, 1000, 600, 16 / 9, 10);
    expect(columns * tileWidth + (columns - 1) * 10).toBeLessThanOrEqual(1000);
    expect(rows * (tileWidth * 9) / 16 + (rows - 1) * 10).toBeLessThanOrEqual(600.001);
  });
});

describe('remembered choices', () => {
  function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
    const data = new Map<string, string>();
    return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
  }
  it('round-trips preferences and ignores garbage in storage', () => {
    const storage = memoryStorage();
    expect(loadPrefs(storage)).toMatchObject({ displayName: '', joinMuted: false, noiseSuppression: true });
    savePrefs({ displayName: 'Ann', audioInputId: 'usb', joinMuted: true }, storage);
    savePrefs({ noiseSuppression: false }, storage);
    expect(loadPrefs(storage)).toMatchObject({ displayName: 'Ann', audioInputId: 'usb', joinMuted: true, noiseSuppression: false });
    storage.setItem('chorus.prefs.v1', '{"displayName": 5, "joinMuted": "yes"}');
    expect(loadPrefs(storage)).toMatchObject({ displayName: '', joinMuted: false });
    storage.setItem('chorus.prefs.v1', 'not json');
    expect(loadPrefs(storage).displayName).toBe('');
  });
  it('keeps recent meetings newest first, without duplicates', () => {
    const storage = memoryStorage();
    rememberMeeting({ serverUrl: 'https://a', meetingCode: 'abc-defg-hij', name: 'One', joinedAt: 1 }, storage);
    rememberMeeting({ serverUrl: 'https://a', meetingCode: 'zzz-zzzz-zzz', name: 'Two', joinedAt: 2 }, storage);
    rememberMeeting({ serverUrl: 'https://a', meetingCode: 'abc-defg-hij', name: 'One', joinedAt: 3 }, storage);
    expect(loadRecent(storage).map((r) => r.name)).toEqual(['One', 'Two']);
    storage.setItem('chorus.recent.v1', '[{"serverUrl": 1}, null, {"serverUrl": "https://b", "meetingCode": "abc-defg-hij"}]');
    expect(loadRecent(storage)).toEqual([{ serverUrl: 'https://b', meetingCode: 'abc-defg-hij', name: '', joinedAt: 0 }]);
  });
});

describe('per-tab meeting secrets', () => {
  const memory = () => {
    const data = new Map<string, string>();
    return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), removeItem: (k: string) => void data.delete(k), data };
  };
  it('remember the passcode and host key per server and meeting, forget the passcode alone, and ignore garbage', () => {
    const s = memory();
    rememberSecrets('http://a', 'abc-defg-hij', { passcode: 'open' }, s);
    rememberSecrets('http://a', 'abc-defg-hij', { hostKey: 'k' }, s);
    expect(recallSecrets('http://a', 'abc-defg-hij', s)).toEqual({ passcode: 'open', hostKey: 'k' });
    expect(recallSecrets('http://b', 'abc-defg-hij', s)).toEqual({});
    forgetPasscode('http://a', 'abc-defg-hij', s);
    expect(recallSecrets('http://a', 'abc-defg-hij', s)).toEqual({ hostKey: 'k' });
    s.setItem('chorus.meeting.v1:http://c|abc-defg-hij', '{"passcode": 5, "hostKey": "x"}');
    expect(recallSecrets('http://c', 'abc-defg-hij', s)).toEqual({ hostKey: 'x' });
    s.setItem('chorus.meeting.v1:http://d|abc-defg-hij', 'not json');
    expect(recallSecrets('http://d', 'abc-defg-hij', s)).toEqual({});
  });
});

describe('presence drops and raised hands', () => {
  it('keeps a dropped person (marked) until they return or a minute passes; a clean leave removes at once', () => {
    const roster = useRosterStore.getState();
    roster.presence(A, true, 'xxxxxx#Ann', 1);
    roster.presence(B, true, 'yyyyyy#Ben', 2);
    roster.presence(B, false, undefined, 1_000, true);
    expect(useRosterStore.getState().attendees[B]?.droppedAt).toBe(1_000);
    roster.presence(B, true, 'yyyyyy#Ben', 2_000);
    expect(useRosterStore.getState().attendees[B]?.droppedAt).toBeUndefined();
    roster.presence(B, false, undefined, 3_000, true);
    roster.expireDropped(3_000 + DROPPED_KEEP_MS);
    expect(useRosterStore.getState().attendees[B]).toBeDefined();
    roster.expireDropped(3_001 + DROPPED_KEEP_MS);
    expect(useRosterStore.getState().attendees[B]).toBeUndefined();
    roster.presence(A, false, undefined, 4_000);
    expect(useRosterStore.getState().attendees[A]).toBeUndefined();
  });

  it('shows the hands of people present, in raise order', () => {
    const live = { hands: [{ attendeeId: B, name: 'Ben', raisedAt: 1 }, { attendeeId: A, name: 'Ann', raisedAt: 2 }] } as unknown as LiveState;
    expect(handPosition(live, A)).toBe(2);
    expect(handPosition(live, A, { [A]: {} })).toBe(1);
    expect(visibleHands(live, { [A]: {} }).map((h) => h.name)).toEqual(['Ann']);
    expect(handPosition(undefined, A)).toBe(0);
  });
});

describe('screen-reader announcements', () => {
  it('every notice is announced (warnings assertively), unless its caller announces it its own way', () => {
    useAnnouncerStore.getState().reset();
    useUiStore.getState().toast('Gus joined');
    expect(useAnnouncerStore.getState().polite?.text).toBe('Gus joined');
    useUiStore.getState().toast('The host muted you', 'warning');
    expect(useAnnouncerStore.getState().assertive?.text).toBe('The host muted you');
    useUiStore.getState().toast('Ida raised a hand', 'info', true);
    expect(useAnnouncerStore.getState().history).toEqual(['Gus joined', 'The host muted you']);
    // The same words twice are two announcements (a new id), so they are read twice.
    const first = useAnnouncerStore.getState().polite!.id;
    useUiStore.getState().toast('Gus joined');
    expect(useAnnouncerStore.getState().polite!.id).not.toBe(first);
  });
});
