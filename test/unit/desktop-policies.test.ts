import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturePickerBroker,
  orderSources,
  planDisplayCapture,
  toCaptureSource,
  type CaptureGrant,
  type CapturerSourceLike,
} from '../../src-main/electron/capture-picker.js';
import {
  certificateFingerprint,
  decideCertificateTrust,
  TrustedServers,
  verifyProcResult,
  VERIFY_ACCEPT,
  VERIFY_REFUSE,
  VERIFY_USE_CHROMIUM,
} from '../../src-main/electron/certificate-trust.js';
import { DeepLinkRouter, inviteFromArgv } from '../../src-main/electron/deep-link.js';
import { loadSettings, parseSettings, saveSettings, serialiseSettings, defaultSettings } from '../../src-main/electron/desktop-settings.js';
import { decideQuit, decideWindowClose, quitChoiceFromResponse, serviceNameFor, trayMenu } from '../../src-main/electron/host-lifecycle.js';
import { isTrustedSender, validateInvokeArgs } from '../../src-main/electron/ipc-validation.js';
import { captureWindowState, fitToDisplays, parseWindowState } from '../../src-main/electron/window-state.js';
import { loadTlsMaterial } from '../../src-main/server/tls/certificate.js';
import type { HostStatus, IpcInvokeChannel } from '../../src-main/shared/desktop-api.js';
import { IPC_INVOKE_CHANNELS } from '../../src-main/shared/desktop-api.js';
import { formatInviteLink, type Invite } from '../../src-main/shared/invite-link.js';

const FP_A = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const running: HostStatus = { state: 'running', info: { localUrl: 'https://127.0.0.1:8443', lanUrls: ['https://192.168.1.20:8443'], fingerprint: FP_A, bearerToken: 'chorus1.x' } };

describe('certificate pinning for remote servers (real certificates from the server generator)', () => {
  let dir: string;
  let certA: string;
  let certB: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-trust-'));
    certA = (await loadTlsMaterial({ dataDir: join(dir, 'a'), hostnames: ['0.0.0.0'] })).cert;
    certB = (await loadTlsMaterial({ dataDir: join(dir, 'b'), hostnames: ['0.0.0.0'] })).cert;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a self-signed certificate only when its fingerprint is pinned for that host', () => {
    const fpA = certificateFingerprint(certA)!;
    expect(fpA).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    const trusted = new TrustedServers();
    // Pasted in lower case without colons, as a person might: normalised on the way in.
    expect(trusted.pin('https://192.168.1.20:8443', fpA.replace(/:/g, '').toLowerCase())).toEqual({ ok: true, hostname: '192.168.1.20' });

    const check = { hostname: '192.168.1.20', certificatePem: certA, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' };
    expect(decideCertificateTrust(check, trusted)).toEqual({ action: 'accept', reason: 'pinned' });
    expect(verifyProcResult(decideCertificateTrust(check, trusted))).toBe(VERIFY_ACCEPT);

    // Another certificate on the pinned host: refused, and the explanation names both fingerprints.
    const mismatch = decideCertificateTrust({ ...check, certificatePem: certB }, trusted);
    expect(mismatch.action).toBe('refuse');
    expect(verifyProcResult(mismatch)).toBe(VERIFY_REFUSE);
    const text = (mismatch as { explanation: string }).explanation;
    expect(text).toContain(fpA);
    expect(text).toContain(certificateFingerprint(certB)!);
    expect(text).toMatch(/different certificate than the one in your invite link/);

    // The pin is per host: the same certificate elsewhere, with no pin, is refused with its own reason.
    const unpinned = decideCertificateTrust({ ...check, hostname: '192.168.1.21' }, trusted);
    expect(unpinned).toMatchObject({ action: 'refuse' });
    expect((unpinned as { explanation: string }).explanation).toMatch(/not publicly trusted \(net::ERR_CERT_AUTHORITY_INVALID\).*invite link/);
  });

  it('leaves publicly trusted certificates to Chromium, pinned or not', () => {
    const trusted = new TrustedServers();
    trusted.pin('https://meet.example.com', FP_A);
    const decision = decideCertificateTrust({ hostname: 'meet.example.com', certificatePem: certB, verificationResult: 'OK' }, trusted);
    expect(decision).toEqual({ action: 'use-chromium' });
    expect(verifyProcResult(decision)).toBe(VERIFY_USE_CHROMIUM);
  });

  it('refuses garbage certificates and bad pins, and survives a save/load round trip', () => {
    const trusted = new TrustedServers();
    expect(trusted.pin('http://10.0.0.2:8080', FP_A)).toMatchObject({ ok: false });
    expect(trusted.pin('https://10.0.0.2', 'AB:CD')).toMatchObject({ ok: false });
    expect(trusted.pin('not a url', FP_A)).toMatchObject({ ok: false });
    trusted.pin('https://[::1]:8443', FP_A);
    trusted.pin('https://Host.LOCAL:8443', FP_A);
    expect(decideCertificateTrust({ hostname: '::1', certificatePem: 'not pem', verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' }, trusted).action).toBe('refuse');
    const restored = TrustedServers.fromJSON(JSON.parse(JSON.stringify(trusted.toJSON())));
    expect(restored.fingerprintsFor('::1').has(FP_A)).toBe(true);
    expect(restored.fingerprintsFor('host.local').has(FP_A)).toBe(true);
    expect(TrustedServers.fromJSON({ 'evil.example': 'not-a-list', other: [42, 'zz'] }).toJSON()).toEqual({});
  });
});

function fakeSource(id: string, name: string): CapturerSourceLike {
  return {
    id,
    name,
    thumbnail: { toDataURL: () => `data:image/png;base64,${id}`, isEmpty: () => false },
    appIcon: id.startsWith('window:') ? { toDataURL: () => 'data:image/png;base64,icon', isEmpty: () => false } : null,
  };
}

describe('desktop capture', () => {
  it('plans the picker per platform: Wayland uses the portal, loopback audio on Windows and recent macOS', () => {
    expect(planDisplayCapture({ platform: 'linux', osRelease: '6.8.0', env: { XDG_SESSION_TYPE: 'wayland' } })).toEqual({ mode: 'portal', useSystemPicker: false, audioAvailable: false });
    expect(planDisplayCapture({ platform: 'linux', osRelease: '6.8.0', env: { WAYLAND_DISPLAY: 'wayland-0' } }).mode).toBe('portal');
    expect(planDisplayCapture({ platform: 'linux', osRelease: '6.8.0', env: { XDG_SESSION_TYPE: 'x11' } })).toEqual({ mode: 'app-picker', useSystemPicker: false, audioAvailable: false });
    expect(planDisplayCapture({ platform: 'win32', osRelease: '10.0.22631', env: {} })).toEqual({ mode: 'app-picker', useSystemPicker: false, audioAvailable: true });
    expect(planDisplayCapture({ platform: 'darwin', osRelease: '24.1.0', env: {} })).toEqual({ mode: 'app-picker', useSystemPicker: true, audioAvailable: true });
    expect(planDisplayCapture({ platform: 'darwin', osRelease: '21.6.0', env: {} })).toEqual({ mode: 'app-picker', useSystemPicker: false, audioAvailable: false });
  });

  it('maps desktopCapturer sources for the picker: screens first, windows by name, unknown ids dropped', () => {
    const mapped = [fakeSource('window:2:0', 'Zed'), fakeSource('screen:1:0', 'Screen 2'), fakeSource('window:1:0', 'Browser'), fakeSource('screen:0:0', 'Screen 1'), fakeSource('tab:1', 'x')]
      .map(toCaptureSource)
      .filter((s) => s !== undefined);
    expect(orderSources(mapped).map((s) => s.id)).toEqual(['screen:1:0', 'screen:0:0', 'window:1:0', 'window:2:0']);
    expect(mapped.find((s) => s.id === 'window:1:0')).toEqual({ id: 'window:1:0', name: 'Browser', kind: 'window', thumbnailDataUrl: 'data:image/png;base64,window:1:0', appIconDataUrl: 'data:image/png;base64,icon' });
    expect(mapped.find((s) => s.id === 'screen:0:0')).not.toHaveProperty('appIconDataUrl');
  });

  function broker(plan = planDisplayCapture({ platform: 'win32', osRelease: '10', env: {} })) {
    const shown: Array<{ requestId: string; sources: { id: string }[]; audioAvailable: boolean }> = [];
    let n = 0;
    const timers: Array<{ cb: () => void; ms: number; cleared: boolean }> = [];
    const b = new CapturePickerBroker<CapturerSourceLike>({
      plan,
      isOwnOrigin: (o) => o === 'app://chorus',
      listSources: async () => [fakeSource('screen:0:0', 'Screen'), fakeSource('window:5:0', 'Editor')],
      showPicker: (r) => (shown.push(r), true),
      newRequestId: () => `req-${++n}`,
      timers: {
        setTimeout: (cb, ms) => {
          const t = { cb, ms, cleared: false };
          timers.push(t);
          return t;
        },
        clearTimeout: (t) => ((t as { cleared: boolean }).cleared = true),
      },
      pickerTimeoutMs: 60_000,
    });
    return { b, shown, timers };
  }

  it('round-trips the renderer picker: choose a source with loopback audio, answered exactly once', async () => {
    const { b, shown } = broker();
    const grants: CaptureGrant<CapturerSourceLike>[] = [];
    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ requestId: 'req-1', audioAvailable: true });
    expect(shown[0]!.sources.map((s) => s.id)).toEqual(['screen:0:0', 'window:5:0']);
    expect(b.choose('req-1', { sourceId: 'window:5:0', audio: true })).toEqual({ ok: true });
    expect(grants).toHaveLength(1);
    expect(grants[0]!.video.id).toBe('window:5:0');
    expect(grants[0]!.audio).toBe('loopback');
    // A second answer to the same request is refused and changes nothing.
    expect(b.choose('req-1', null)).toMatchObject({ ok: false });
    expect(grants).toHaveLength(1);
  });

  it('handles cancel, sources that were not offered, timeouts, foreign origins and audio where unsupported', async () => {
    const { b, timers } = broker(planDisplayCapture({ platform: 'linux', osRelease: '6', env: {} }));
    const grants: CaptureGrant<CapturerSourceLike>[] = [];
    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    expect(b.choose('req-1', null)).toEqual({ ok: true });
    expect(grants).toEqual([null]);

    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    expect(b.choose('req-2', { sourceId: 'screen:9:9', audio: false })).toMatchObject({ ok: false, error: expect.stringMatching(/not offered/) });
    expect(grants).toEqual([null, null]);

    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    expect(b.choose('req-3', { sourceId: 'screen:0:0', audio: true })).toEqual({ ok: true });
    expect(grants[2]).toEqual({ video: expect.objectContaining({ id: 'screen:0:0' }) }); // no loopback on Linux

    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    const timer = timers[timers.length - 1]!;
    expect(timer.ms).toBe(60_000);
    timer.cb();
    expect(grants[3]).toBeNull();
    expect(b.hasPending()).toBe(false);

    await b.handle({ securityOrigin: 'https://evil.example', videoRequested: true }, (g) => grants.push(g));
    expect(grants[4]).toBeNull();
  });

  it('keeps the open picker live: re-lists sources with the same requestId until it is answered', async () => {
    let listing = [fakeSource('screen:0:0', 'Screen'), fakeSource('window:5:0', 'Editor')];
    const shown: Array<{ requestId: string; sources: { id: string }[] }> = [];
    const timers: Array<{ cb: () => void; ms: number; cleared: boolean }> = [];
    const b = new CapturePickerBroker<CapturerSourceLike>({
      plan: planDisplayCapture({ platform: 'win32', osRelease: '10', env: {} }),
      isOwnOrigin: () => true,
      listSources: async () => listing,
      showPicker: (r) => (shown.push(r), true),
      newRequestId: () => 'live-1',
      refreshIntervalMs: 1_500,
      timers: {
        setTimeout: (cb, ms) => {
          const t = { cb, ms, cleared: false };
          timers.push(t);
          return t;
        },
        clearTimeout: (t) => ((t as { cleared: boolean }).cleared = true),
      },
    });
    const grants: CaptureGrant<CapturerSourceLike>[] = [];
    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    const refreshTimer = () => timers.filter((t) => t.ms === 1_500 && !t.cleared).at(-1)!;
    // A new window opened, the editor closed.
    listing = [fakeSource('screen:0:0', 'Screen'), fakeSource('window:7:0', 'Slides')];
    const due = refreshTimer();
    due.cleared = true; // fired timers are spent
    due.cb();
    await new Promise((resolve) => setImmediate(resolve));
    expect(shown.map((r) => r.requestId)).toEqual(['live-1', 'live-1']);
    expect(shown[1]!.sources.map((s) => s.id)).toEqual(['screen:0:0', 'window:7:0']);
    // The closed window can no longer be chosen; the new one can.
    expect(b.choose('live-1', { sourceId: 'window:7:0', audio: false })).toEqual({ ok: true });
    expect(grants[0]?.video.id).toBe('window:7:0');
    // Answered: no refresh is left scheduled.
    expect(refreshTimer()).toBeUndefined();
  });

  it('a newer request cancels an older open picker; the portal mode grants the portal source directly', async () => {
    const { b } = broker();
    const first: CaptureGrant<CapturerSourceLike>[] = [];
    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => first.push(g));
    await b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, () => undefined);
    expect(first).toEqual([null]);

    const portal = broker(planDisplayCapture({ platform: 'linux', osRelease: '6', env: { XDG_SESSION_TYPE: 'wayland' } }));
    const grants: CaptureGrant<CapturerSourceLike>[] = [];
    await portal.b.handle({ securityOrigin: 'app://chorus', videoRequested: true }, (g) => grants.push(g));
    expect(portal.shown).toHaveLength(0);
    expect(grants[0]?.video.id).toBe('screen:0:0');
  });
});

describe('deep links', () => {
  const invite: Invite = { serverUrl: 'https://192.168.1.20:8443', meetingCode: 'abc-defg-hij', fingerprint: FP_A };

  it('finds the chorus:// link in a second instance argv (Windows/Linux)', () => {
    const link = formatInviteLink(invite, 'desktop');
    expect(inviteFromArgv(['/opt/Chorus/chorus', '--no-sandbox', link])).toEqual({ ok: true, invite });
    expect(inviteFromArgv(['C:\\Chorus\\Chorus.exe', '--allow-file-access', link.replace('chorus:', 'CHORUS:')])).toEqual({ ok: true, invite });
    expect(inviteFromArgv(['/opt/Chorus/chorus'])).toBeUndefined();
    expect(inviteFromArgv(['chorus', 'chorus://leave?x=1'])).toMatchObject({ ok: false, error: expect.stringMatching(/Unknown chorus:\/\/ action/) });
  });

  it('holds an invite until the renderer subscribes, then sends later ones directly', () => {
    const sent: Invite[] = [];
    const errors: string[] = [];
    let windowAlive = true;
    const router = new DeepLinkRouter((i) => (windowAlive ? (sent.push(i), true) : false), (e) => errors.push(e));
    router.receive({ ok: true, invite });
    expect(sent).toEqual([]);
    expect(router.takePending()).toEqual(invite);
    expect(router.takePending()).toBeNull();
    const second = { ...invite, meetingCode: 'xyz-abcd-efg' };
    router.receive({ ok: true, invite: second });
    expect(sent).toEqual([second]);
    router.rendererGone();
    router.receive({ ok: true, invite });
    expect(sent).toHaveLength(1);
    windowAlive = false;
    expect(router.takePending()).toEqual(invite);
    router.receive({ ok: true, invite: second }); // the send fails: kept for the next subscriber
    expect(router.takePending()).toEqual(second);
    router.receive({ ok: false, error: 'bad link' });
    expect(errors).toEqual(['bad link']);
  });
});

describe('window state', () => {
  const display = { x: 0, y: 0, width: 1920, height: 1040 };

  it('validates saved state and keeps a position that is on a display', () => {
    expect(parseWindowState({ width: 1000, height: 700, x: 100, y: 50, maximized: true })).toEqual({ width: 1000, height: 700, x: 100, y: 50, maximized: true });
    expect(parseWindowState({ width: 100, height: 100 })).toEqual({ width: 800, height: 560, maximized: false });
    expect(parseWindowState({ width: '1000', height: 700 })).toEqual({ width: 1280, height: 800, maximized: false });
    expect(parseWindowState(null)).toEqual({ width: 1280, height: 800, maximized: false });
    expect(fitToDisplays({ width: 1000, height: 700, x: 100, y: 50, maximized: false }, [display])).toEqual({ width: 1000, height: 700, x: 100, y: 50, maximized: false });
  });

  it('drops a position on a display that is gone and shrinks a window larger than any display', () => {
    const onOldMonitor = { width: 1000, height: 700, x: 2500, y: 100, maximized: false };
    expect(fitToDisplays(onOldMonitor, [display])).toEqual({ width: 1000, height: 700, maximized: false });
    expect(fitToDisplays(onOldMonitor, [display, { x: 1920, y: 0, width: 1920, height: 1080 }])).toEqual(onOldMonitor);
    expect(fitToDisplays({ width: 3000, height: 2000, maximized: false }, [{ x: 0, y: 0, width: 1366, height: 728 }])).toEqual({ width: 1366, height: 728, maximized: false });
    expect(captureWindowState({ x: 10, y: 20, width: 900, height: 600 }, true)).toEqual({ x: 10, y: 20, width: 900, height: 600, maximized: true });
  });

  it('settings survive a save and load, and a corrupt file falls back to defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-settings-'));
    try {
      const path = join(dir, 'nested', 'desktop-settings.json');
      const settings = defaultSettings();
      settings.window = { width: 1000, height: 700, x: 5, y: 6, maximized: false };
      settings.trustedServers.pin('https://10.0.0.2:8443', FP_A);
      settings.firewallNoticeShown = true;
      await Promise.all([saveSettings(path, defaultSettings()), saveSettings(path, settings)]);
      const loaded = await loadSettings(path);
      expect(JSON.parse(serialiseSettings(loaded))).toEqual(JSON.parse(serialiseSettings(settings)));
      expect(JSON.parse(await readFile(path, 'utf8')).trustedServers).toEqual({ '10.0.0.2': [FP_A] });
      await writeFile(path, '{ not json');
      expect(JSON.parse(serialiseSettings(await loadSettings(path)))).toEqual(JSON.parse(serialiseSettings(defaultSettings())));
      expect(parseSettings('[]').firewallNoticeShown).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('IPC validation', () => {
  it('accepts only the top frame of our own window on our origin', () => {
    expect(isTrustedSender({ frameUrl: 'app://chorus/index.html', isMainFrameOfOurWindow: true })).toBe(true);
    expect(isTrustedSender({ frameUrl: 'app://chorus/index.html', isMainFrameOfOurWindow: false })).toBe(false);
    expect(isTrustedSender({ frameUrl: 'https://192.168.1.20:8443/', isMainFrameOfOurWindow: true })).toBe(false);
    expect(isTrustedSender({ frameUrl: undefined, isMainFrameOfOurWindow: true })).toBe(false);
  });

  it('checks arity and shapes, and copies arguments into exact shapes', () => {
    for (const channel of ['app:version', 'app:take-pending-deep-link', 'host:start', 'host:status', 'discovery:list'] as const) {
      expect(validateInvokeArgs(channel, [])).toEqual({ ok: true, args: [] });
      expect(validateInvokeArgs(channel, ['extra'])).toMatchObject({ ok: false });
    }
    expect(validateInvokeArgs('host:stop', [{ endMeetings: true }])).toEqual({ ok: true, args: [{ endMeetings: true }] });
    expect(validateInvokeArgs('host:stop', [{ endMeetings: 'yes' }])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('host:stop', [{ endMeetings: true, __proto__x: 1 }])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('host:stop', [])).toMatchObject({ ok: false });

    expect(validateInvokeArgs('capture:choose', ['req-1', null])).toEqual({ ok: true, args: ['req-1', null] });
    expect(validateInvokeArgs('capture:choose', ['req-1', { sourceId: 'screen:0:0', audio: false }])).toEqual({ ok: true, args: ['req-1', { sourceId: 'screen:0:0', audio: false }] });
    expect(validateInvokeArgs('capture:choose', ['req-1', { sourceId: 'file:///etc/passwd', audio: false }])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('capture:choose', ['../x', null])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('capture:choose', ['req-1', { sourceId: 'screen:0:0' }])).toMatchObject({ ok: false });

    expect(validateInvokeArgs('trust:pin-server', ['https://192.168.1.20:8443/join/abc', FP_A.toLowerCase()])).toEqual({ ok: true, args: ['https://192.168.1.20:8443', FP_A] });
    expect(validateInvokeArgs('trust:pin-server', ['http://192.168.1.20:8443', FP_A])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('trust:pin-server', ['https://user:pw@192.168.1.20', FP_A])).toMatchObject({ ok: false });
    expect(validateInvokeArgs('trust:pin-server', ['https://192.168.1.20', 'AB'])).toMatchObject({ ok: false });
  });

  it('has a validator for every channel in the contract', () => {
    for (const channel of IPC_INVOKE_CHANNELS as readonly IpcInvokeChannel[]) {
      expect(validateInvokeArgs(channel, ['definitely', 'wrong', 'arity'])).toMatchObject({ ok: false });
    }
  });
});

describe('hosting lifecycle: window close, quit, tray', () => {
  it('hides to the tray while hosting, closes otherwise or when quitting', () => {
    expect(decideWindowClose({ status: running, quitting: false })).toBe('hide-to-tray');
    expect(decideWindowClose({ status: { state: 'crashed', message: 'x', restarting: true }, quitting: false })).toBe('hide-to-tray');
    expect(decideWindowClose({ status: running, quitting: true })).toBe('close');
    expect(decideWindowClose({ status: { state: 'stopped' }, quitting: false })).toBe('close');
    expect(decideWindowClose({ status: { state: 'crashed', message: 'x', restarting: false }, quitting: false })).toBe('close');
  });

  it('asks before quitting ends meetings for everyone; the safe answer keeps hosting', () => {
    expect(decideQuit({ status: running, activeMeetings: 0 })).toEqual({ action: 'quit' });
    expect(decideQuit({ status: { state: 'stopped' }, activeMeetings: 3 })).toEqual({ action: 'quit' });
    const ask = decideQuit({ status: running, activeMeetings: 2 });
    expect(ask.action).toBe('ask');
    const prompt = (ask as Extract<typeof ask, { action: 'ask' }>).prompt;
    expect(prompt.message).toBe('2 meetings are in progress on this computer.');
    expect(prompt.buttons[0]).toMatch(/End meeting for everyone/);
    expect(quitChoiceFromResponse(0)).toBe('end-meetings-and-quit');
    expect(quitChoiceFromResponse(prompt.cancelId)).toBe('keep-hosting');
    expect(quitChoiceFromResponse(99)).toBe('keep-hosting');
  });

  it('tray menu reflects the status', () => {
    expect(trayMenu(running)).toEqual([
      { kind: 'label', label: 'Hosting at https://192.168.1.20:8443' },
      { kind: 'separator' },
      { kind: 'action', label: 'Show Chorus', action: 'show-window' },
      { kind: 'action', label: 'Stop hosting (ends meetings)', action: 'stop-hosting' },
      { kind: 'separator' },
      { kind: 'action', label: 'Quit Chorus', action: 'quit' },
    ]);
    expect(trayMenu({ state: 'stopped' }).some((i) => i.kind === 'action' && i.action === 'stop-hosting')).toBe(false);
    expect(trayMenu({ state: 'crashed', message: 'x', restarting: true })[0]).toEqual({ kind: 'label', label: 'Meeting server restarting…' });
  });

  it('derives an mDNS instance name from the computer name', () => {
    expect(serviceNameFor('alices-macbook.local')).toBe('alices-macbook');
    expect(serviceNameFor('host.example.com')).toBe('host example com');
    expect(serviceNameFor('\u0001\u0002')).toBe('Chorus');
    expect(serviceNameFor('x'.repeat(80))).toHaveLength(50);
  });
});
