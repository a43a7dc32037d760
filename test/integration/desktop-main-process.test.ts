import { ChimeSDKMeetingsClient, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServerHealth } from '../../src-main/electron/server-host/health-check.js';
import { loadTlsMaterial } from '../../src-main/server/tls/certificate.js';
import { IPC_INVOKE_CHANNELS, type HostInfo } from '../../src-main/shared/desktop-api.js';
import { formatInviteLink } from '../../src-main/shared/invite-link.js';
import { eventually } from '../helpers/eventually.js';

/**
 * The built main process (dist/electron/main.js) run in Node with a recording
 * stand-in for the `electron` module (desktop-support/fake-electron.mjs), because
 * Electron cannot run here. It checks the wiring main.ts is responsible for: what
 * it asks of Electron, and that the handlers it installs route to the tested
 * decisions. Hosting is real: the stand-in's utilityProcess runs the bundled
 * server entry as a Node child, so host:start starts a real TLS server.
 */
const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'electron', 'main.js');
const REGISTER = join(import.meta.dirname, 'desktop-support', 'register-fake-electron.mjs');
const BUILT = existsSync(MAIN) && existsSync(join(import.meta.dirname, '..', '..', 'dist', 'electron', 'server-host.js'));
if (!BUILT) console.warn('Skipping the main-process wiring test: dist/electron is not built (run npm run build:electron)');

interface FakeState {
  privilegedSchemes: Array<{ scheme: string; privileges: Record<string, boolean> }>;
  sandbox: boolean;
  singleInstanceRequested: boolean;
  protocolClients: string[][];
  ipcChannels: string[];
  protocolHandlers: string[];
  windows: Array<{ options: { webPreferences: Record<string, unknown>; width: number }; url: string; visible: boolean }>;
  sent: Array<{ channel: string; payload: unknown }>;
  dialogs: Array<{ message: string; detail?: string; buttons?: string[] }>;
  opened: string[];
  quitCalls: number;
  trays: Array<{ destroyed: boolean; tooltip?: string; menu?: string[] }>;
  grants: Array<{ video: string; audio: string | null } | null>;
  utilityChildren: Array<{ pid: number; modulePath: string; serviceName?: string }>;
}

describe.skipIf(!BUILT)('the built main process, wired to a stand-in for Electron', () => {
  let child: ChildProcess;
  let userData: string;
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  function op<T = unknown>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ op: name, id, args });
    });
  }
  const state = () => op<FakeState>('state');
  const invoke = <T = unknown>(channel: string, args: unknown[] = [], sender = 'main') => op<T>('invoke', { channel, args, sender });

  beforeAll(async () => {
    userData = await mkdtemp(join(tmpdir(), 'chorus-main-wiring-'));
    child = fork(MAIN, [], {
      execArgv: ['--import', REGISTER],
      env: { ...process.env, CHORUS_USER_DATA_DIR: userData },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.resume();
    child.on('message', (message: { reply?: number; ok?: boolean; value?: unknown; error?: string }) => {
      const waiter = message.reply === undefined ? undefined : pending.get(message.reply);
      if (!waiter) return;
      pending.delete(message.reply!);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error));
    });
    await eventually(async () => expect((await state()).windows).toHaveLength(1), 15_000, 100);
  }, 30_000);

  afterAll(async () => {
    const pids = child ? (await state().catch(() => ({ utilityChildren: [] }))).utilityChildren.map((c) => c.pid) : [];
    child?.kill('SIGKILL');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(userData, { recursive: true, force: true });
  });

  it('sets up a sandboxed, isolated window on app:// and one IPC handler per contract channel', async () => {
    const s = await state();
    expect(s.sandbox).toBe(true);
    expect(s.singleInstanceRequested).toBe(true);
    expect(s.protocolClients[0]?.[0]).toBe('chorus');
    expect(s.privilegedSchemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect(s.protocolHandlers).toEqual(['app']);
    expect(s.ipcChannels).toEqual([...IPC_INVOKE_CHANNELS].sort());
    const [window] = s.windows;
    expect(window!.url).toBe('app://chorus/index.html');
    expect(window!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(existsSync(window!.options.webPreferences.preload as string)).toBe(true);
  });

  it('answers our own top frame and refuses other senders and malformed arguments', async () => {
    expect(await invoke('app:version')).toBe('0.1.0');
    await expect(invoke('app:version', [], 'subframe')).rejects.toThrow(/unknown sender/);
    await expect(invoke('app:version', [], 'foreign-main')).rejects.toThrow(/unknown sender/);
    await expect(invoke('host:stop', [{ endMeetings: 'yes' }])).rejects.toThrow(/IPC refused: host:stop expects/);
    await expect(invoke('trust:pin-server', ['http://10.0.0.2', 'AA'])).rejects.toThrow(/IPC refused/);
  });

  it('denies navigation and permissions outside our origin, and opens only http(s) links outside', async () => {
    expect(await op('web-contents-event', { event: 'will-navigate', args: ['https://evil.example/'] })).toEqual({ defaultPrevented: true });
    expect(await op('window-open', { url: 'https://chorus.example/help' })).toEqual({ action: 'deny' });
    expect(await op('window-open', { url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect((await state()).opened).toEqual(['https://chorus.example/help']);
    expect(await op('permission', { permission: 'media', url: 'app://chorus/index.html' })).toBe(true);
    expect(await op('permission', { permission: 'media', url: 'https://evil.example/' })).toBe(false);
    expect(await op('permission', { permission: 'geolocation', url: 'app://chorus/index.html' })).toBe(false);
  });

  it('holds a chorus:// link from a second instance until the page subscribes, then delivers directly', async () => {
    const invite = { serverUrl: 'https://192.168.1.20:8443', meetingCode: 'abc-defg-hij' };
    await op('app-event', { event: 'second-instance', args: [['/opt/chorus', formatInviteLink(invite, 'desktop')], '/'] });
    expect((await state()).sent.filter((m) => m.channel === 'app:deep-link')).toEqual([]);
    expect(await invoke('app:take-pending-deep-link')).toEqual(invite);
    const next = { ...invite, meetingCode: 'xyz-abcd-efg' };
    await op('app-event', { event: 'second-instance', args: [['/opt/chorus', formatInviteLink(next, 'desktop')], '/'] });
    expect((await state()).sent.filter((m) => m.channel === 'app:deep-link').map((m) => m.payload)).toEqual([next]);
    await op('app-event', { event: 'second-instance', args: [['/opt/chorus', 'chorus://join?server=nope'], '/'] });
    expect((await state()).dialogs.at(-1)).toMatchObject({ message: 'Chorus cannot open that link' });
  });

  it('runs the screen-share picker round trip through IPC', async () => {
    await op('display-media', { origin: 'app://chorus' });
    const request = await eventually(async () => {
      const found = (await state()).sent.filter((m) => m.channel === 'capture:picker-request').at(-1);
      expect(found).toBeDefined();
      return found!.payload as { requestId: string; sources: Array<{ id: string }>; audioAvailable: boolean };
    });
    expect(request.sources.map((s) => s.id)).toEqual(['screen:0:0', 'window:42:0']);
    await invoke('capture:choose', [request.requestId, { sourceId: 'window:42:0', audio: false }]);
    await expect(invoke('capture:choose', [request.requestId, null])).rejects.toThrow(/No screen-share request/);
    await op('display-media', { origin: 'https://evil.example' });
    await eventually(async () => expect((await state()).grants).toEqual([{ video: 'window:42:0', audio: null }, null]));
  });

  let hosted: HostInfo;

  it('hosts through IPC: firewall notice once, status pushed to the page, tray while hosting', async () => {
    hosted = await invoke<HostInfo>('host:start');
    expect(hosted.localUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await checkServerHealth(hosted)).toBe(true);
    const s = await state();
    expect(s.utilityChildren[0]).toMatchObject({ serviceName: 'Chorus meeting server' });
    expect(s.utilityChildren[0]!.modulePath).toMatch(/dist[/\\]electron[/\\]server-host\.js$/);
    expect(s.dialogs.filter((d) => /incoming connections/.test(d.message))).toHaveLength(1);
    expect(s.sent.filter((m) => m.channel === 'host:status-changed').map((m) => (m.payload as { state: string }).state)).toEqual(['starting', 'running']);
    expect(s.trays.at(-1)).toMatchObject({ destroyed: false, menu: expect.arrayContaining(['Stop hosting (ends meetings)', 'Quit Chorus']) });
    expect(await invoke('host:status')).toMatchObject({ state: 'running', info: { fingerprint: hosted.fingerprint } });
  });

  it("trusts its own server's certificate, and refuses an unpinned self-signed one with an explanation", async () => {
    const ownPem = await readFile(join(userData, 'server', 'tls-cert.pem'), 'utf8');
    expect(await op('verify', { hostname: '127.0.0.1', pem: ownPem, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' })).toBe(0);
    const otherDir = await mkdtemp(join(tmpdir(), 'chorus-other-cert-'));
    try {
      const other = await loadTlsMaterial({ dataDir: otherDir, hostnames: ['10.9.9.9'] });
      expect(await op('verify', { hostname: '10.9.9.9', pem: other.cert, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' })).toBe(-2);
      expect((await state()).dialogs.at(-1)).toMatchObject({ message: 'Chorus refused an untrusted connection', detail: expect.stringContaining('no invite link vouched for it') });
      // Pinned through IPC, as the join screen does before its first request: accepted, and the pin is saved.
      await invoke('trust:pin-server', ['https://10.9.9.9:8443', other.fingerprint256]);
      expect(await op('verify', { hostname: '10.9.9.9', pem: other.cert, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' })).toBe(0);
      expect(await op('verify', { hostname: '10.9.9.9', pem: ownPem, verificationResult: 'net::ERR_CERT_AUTHORITY_INVALID' })).toBe(-2);
      const saved = JSON.parse(await readFile(join(userData, 'desktop-settings.json'), 'utf8')) as { trustedServers: Record<string, string[]> };
      expect(saved.trustedServers['10.9.9.9']).toEqual([other.fingerprint256]);
      expect(saved.trustedServers['127.0.0.1']).toBeUndefined();
      expect(await op('verify', { hostname: 'meet.example.com', pem: other.cert, verificationResult: 'OK' })).toBe(-3);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('closing the window while hosting hides it; quitting with a meeting asks, and "Keep hosting" keeps it', async () => {
    expect(await op('window-event', { event: 'close', args: [] })).toEqual({ defaultPrevented: true, visible: false });
    // The window's state is written on close, for the next start.
    await eventually(async () => {
      const saved = JSON.parse(await readFile(join(userData, 'desktop-settings.json'), 'utf8')) as { window: unknown };
      expect(saved.window).toEqual({ x: 10, y: 20, width: 1280, height: 800, maximized: false });
    });

    const ownPem = await readFile(join(userData, 'server', 'tls-cert.pem'), 'utf8');
    const credentials = JSON.parse(await readFile(join(userData, 'server', 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const chime = new ChimeSDKMeetingsClient({
      region: 'us-east-1',
      endpoint: hosted.localUrl,
      credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: ownPem, servername: 'localhost' }) }),
    });
    await chime.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'keep-me' }));
    chime.destroy();

    await op('dialog-response', { response: 1 });
    expect(await op('app-event', { event: 'before-quit', args: [] })).toEqual({ defaultPrevented: true });
    await eventually(async () => expect((await state()).dialogs.at(-1)).toMatchObject({ message: 'A meeting is in progress on this computer.' }));
    expect((await state()).quitCalls).toBe(0);
    expect(await checkServerHealth(hosted)).toBe(true);

    await op('dialog-response', { response: 0 });
    await op('app-event', { event: 'before-quit', args: [] });
    await eventually(async () => expect((await state()).quitCalls).toBe(1), 15_000, 100);
    expect(await checkServerHealth(hosted, 1_000)).toBe(false);
  }, 30_000);
});
