import { readFile } from 'node:fs/promises';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  externalUrlToOpen,
  isNavigationAllowed,
  isPermissionGranted,
  resolveAppAsset,
} from '../../src-main/electron/security-policy.js';

describe('desktop security policy', () => {
  it('grants media and display capture to our origin only', () => {
    expect(isPermissionGranted('media', `${APP_ORIGIN}/index.html`)).toBe(true);
    expect(isPermissionGranted('display-capture', `${APP_ORIGIN}/`)).toBe(true);
    expect(isPermissionGranted('media', 'https://evil.example/')).toBe(false);
    expect(isPermissionGranted('media', 'app://other/index.html')).toBe(false);
    expect(isPermissionGranted('geolocation', `${APP_ORIGIN}/`)).toBe(false);
    expect(isPermissionGranted('notifications', `${APP_ORIGIN}/`)).toBe(false);
    expect(isPermissionGranted('media', undefined)).toBe(false);
    expect(isPermissionGranted('media', 'not a url')).toBe(false);
  });

  it('never navigates, and opens only http(s) links externally', () => {
    expect(isNavigationAllowed(`${APP_ORIGIN}/other.html`)).toBe(false);
    expect(isNavigationAllowed('https://example.com')).toBe(false);
    expect(externalUrlToOpen('https://example.com/help')).toBe('https://example.com/help');
    expect(externalUrlToOpen('file:///etc/passwd')).toBeUndefined();
    expect(externalUrlToOpen('javascript:alert(1)')).toBeUndefined();
    expect(externalUrlToOpen('smb://share/x')).toBeUndefined();
  });

  it('serves renderer assets and refuses anything that escapes the build directory', () => {
    expect(resolveAppAsset(`${APP_ORIGIN}/`)).toEqual({ relativePath: 'index.html', mimeType: 'text/html; charset=utf-8' });
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/index-1.js`)).toEqual({ relativePath: 'assets/index-1.js', mimeType: 'text/javascript; charset=utf-8' });
    // The URL parser folds encoded dot segments at the root, so this stays inside the build directory.
    expect(resolveAppAsset(`${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`)?.relativePath).toBe('etc/passwd');
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/%2E%2E%2F%2E%2E%2Fsecret`)).toBeUndefined();
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/..%5c..%5csecret`)).toBeUndefined();
    expect(resolveAppAsset(`${APP_ORIGIN}/a%00b.js`)).toBeUndefined();
    expect(resolveAppAsset('app://elsewhere/index.html')).toBeUndefined();
    expect(resolveAppAsset('file:///index.html')).toBeUndefined();
  });

  it('has a CSP that forbids inline and remote scripts', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
  });
});

describe('the built preload script', () => {
  // Electron cannot run here, so its two preload objects (contextBridge, ipcRenderer) are stood in for
  // by a recording fake; the script under test is the real build output.
  async function loadPreload(answers: Record<string, unknown>) {
    const source = await readFile('dist/preload/preload.cjs', 'utf8');
    const exposed: Record<string, unknown> = {};
    const invoked: unknown[][] = [];
    const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
    const ipcRenderer = {
      invoke: (channel: string, ...args: unknown[]) => {
        invoked.push([channel, ...args]);
        return channel in answers ? Promise.resolve(answers[channel]) : Promise.reject(new Error(`no handler for ${channel}`));
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      },
      removeListener: (channel: string, listener: (...args: unknown[]) => void) => listeners.get(channel)?.delete(listener),
    };
    const electron = { contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) }, ipcRenderer };
    runInNewContext(source, {
      require: (name: string) => {
        if (name !== 'electron') throw new Error(`preload may not require ${name}`);
        return electron;
      },
      exports: {},
      module: { exports: {} },
    });
    const emit = (channel: string, payload: unknown): void => {
      for (const listener of listeners.get(channel) ?? []) listener({ sender: 'ipc-event-object' }, payload);
    };
    const listenerCount = (channel: string): number => listeners.get(channel)?.size ?? 0;
    return { exposed, invoked, emit, listenerCount, ipcRenderer };
  }
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('exposes exactly one named API and never ipcRenderer itself', async () => {
    const { exposed, invoked, ipcRenderer } = await loadPreload({ 'app:version': '9.9.9', 'host:status': { state: 'stopped' } });
    expect(Object.keys(exposed)).toEqual(['chorusDesktop']);
    const api = exposed.chorusDesktop as Record<string, Record<string, unknown>>;
    expect(Object.keys(api).sort()).toEqual(['appVersion', 'capture', 'discovery', 'host', 'kind', 'onDeepLink', 'trust']);
    expect(Object.keys(api.host!).sort()).toEqual(['onStatus', 'start', 'status', 'stop']);
    expect(Object.keys(api.capture!).sort()).toEqual(['choose', 'onPickerRequest']);
    expect(Object.keys(api.discovery!)).toEqual(['onServers']);
    expect(Object.keys(api.trust!)).toEqual(['pinServer']);
    const leaves = Object.values(api).flatMap((v) => (typeof v === 'object' && v !== null ? Object.values(v) : [v]));
    for (const value of leaves) {
      expect(value).not.toBe(ipcRenderer);
      expect(typeof value === 'function' || typeof value === 'string').toBe(true);
    }
    expect(await (api.appVersion as unknown as () => Promise<string>)()).toBe('9.9.9');
    expect(await (api.host!.status as () => Promise<unknown>)()).toEqual({ state: 'stopped' });
    expect(invoked).toEqual([['app:version'], ['host:status']]);
  });

  it('forwards arguments by value on the named channels', async () => {
    const { exposed, invoked } = await loadPreload({ 'host:stop': undefined, 'capture:choose': undefined, 'trust:pin-server': undefined });
    const api = exposed.chorusDesktop as { host: { stop(o: unknown): Promise<void> }; capture: { choose(id: string, c: unknown): Promise<void> }; trust: { pinServer(u: string, f: string): Promise<void> } };
    await api.host.stop({ endMeetings: true, extra: 'dropped' });
    await api.capture.choose('r1', { sourceId: 'screen:0:0', audio: false, extra: 1 });
    await api.capture.choose('r2', null);
    await api.trust.pinServer('https://10.0.0.2:8443', 'AA:BB');
    expect(invoked).toEqual([
      ['host:stop', { endMeetings: true }],
      ['capture:choose', 'r1', { sourceId: 'screen:0:0', audio: false }],
      ['capture:choose', 'r2', null],
      ['trust:pin-server', 'https://10.0.0.2:8443', 'AA:BB'],
    ]);
  });

  it('subscriptions deliver only the payload and return a working unsubscribe', async () => {
    const { exposed, emit, listenerCount } = await loadPreload({ 'discovery:list': [], 'app:take-pending-deep-link': null });
    const api = exposed.chorusDesktop as { host: { onStatus(cb: (s: unknown) => void): () => void }; capture: { onPickerRequest(cb: (r: unknown) => void): () => void } };
    const statuses: unknown[][] = [];
    const off = api.host.onStatus((...args) => statuses.push(args));
    emit('host:status-changed', { state: 'starting' });
    expect(statuses).toEqual([[{ state: 'starting' }]]);
    off();
    off();
    expect(listenerCount('host:status-changed')).toBe(0);
    emit('host:status-changed', { state: 'stopped' });
    expect(statuses).toHaveLength(1);

    const requests: unknown[] = [];
    const offPicker = api.capture.onPickerRequest((r) => requests.push(r));
    emit('capture:picker-request', { requestId: 'a', sources: [], audioAvailable: false });
    offPicker();
    expect(requests).toEqual([{ requestId: 'a', sources: [], audioAvailable: false }]);
  });

  it('cancels a screen-share request at once when the page shows no picker', async () => {
    const { exposed, emit, invoked } = await loadPreload({ 'capture:choose': undefined });
    const api = exposed.chorusDesktop as { capture: { onPickerRequest(cb: (r: unknown) => void): () => void } };
    emit('capture:picker-request', { requestId: 'nobody', sources: [], audioAvailable: false });
    expect(invoked).toEqual([['capture:choose', 'nobody', null]]);
    const off = api.capture.onPickerRequest(() => undefined);
    emit('capture:picker-request', { requestId: 'shown', sources: [], audioAvailable: false });
    expect(invoked).toHaveLength(1);
    off();
    off();
    emit('capture:picker-request', { requestId: 'again-nobody', sources: [], audioAvailable: false });
    expect(invoked).toEqual([['capture:choose', 'nobody', null], ['capture:choose', 'again-nobody', null]]);
  });

  it('hands a late subscriber the current servers and the deep link that launched the app', async () => {
    const invite = { serverUrl: 'https://10.0.0.2:8443', meetingCode: 'abc-defg-hij' };
    const servers = [{ name: 'Room', serverUrl: 'https://10.0.0.2:8443' }];
    const { exposed, emit, invoked } = await loadPreload({ 'discovery:list': servers, 'app:take-pending-deep-link': invite });
    const api = exposed.chorusDesktop as { discovery: { onServers(cb: (s: unknown) => void): () => void }; onDeepLink(cb: (i: unknown) => void): () => void };
    const seenServers: unknown[] = [];
    const seenInvites: unknown[] = [];
    api.discovery.onServers((s) => seenServers.push(s));
    api.onDeepLink((i) => seenInvites.push(i));
    await flush();
    expect(seenServers).toEqual([servers]);
    expect(seenInvites).toEqual([invite]);
    emit('app:deep-link', { ...invite, meetingCode: 'xyz-abcd-efg' });
    expect(seenInvites).toHaveLength(2);
    expect(invoked.map((c) => c[0])).toEqual(['discovery:list', 'app:take-pending-deep-link']);
  });
});

describe('the built main-process bundles', () => {
  it('keep electron out of the utility-process entry, which must also run in plain Node', async () => {
    const entry = await readFile('dist/electron/server-host.js', 'utf8');
    const main = await readFile('dist/electron/main.js', 'utf8');
    expect(entry).not.toMatch(/from\s+["']electron["']|require\(["']electron["']\)/);
    expect(entry).toContain('parentPort');
    expect(main).toMatch(/from\s+"electron"/);
    // The supervisor launches the entry by this file name, next to main.js.
    expect(main).toContain('"server-host.js"');
  });
});
