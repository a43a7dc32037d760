import { app, BrowserWindow, desktopCapturer, dialog, ipcMain, net, protocol, screen, session, shell, type IpcMainInvokeEvent } from 'electron';
import { randomUUID } from 'node:crypto';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostInfo, IpcEventChannel, IpcEventChannels, IpcInvokeChannel, IpcInvokeChannels } from '../shared/desktop-api.js';
import { parseInviteLink } from '../shared/invite-link.js';
import { CapturePickerBroker, MAC_LOOPBACK_FEATURES, planDisplayCapture } from './capture-picker.js';
import { decideCertificateTrust, TrustedServers, verifyProcResult } from './certificate-trust.js';
import { DeepLinkRouter, DEEP_LINK_SCHEME, inviteFromArgv } from './deep-link.js';
import { loadSettings, saveSettings } from './desktop-settings.js';
import { decideQuit, decideWindowClose, FIREWALL_NOTICE, quitChoiceFromResponse } from './host-lifecycle.js';
import { createHostSupervisor, HostTray } from './hosting.js';
import { isTrustedSender, validateInvokeArgs } from './ipc-validation.js';
import { ServerBrowser } from './server-host/mdns.js';
import { HostError } from './server-host/supervisor.js';
import {
  APP_ORIGIN,
  APP_SCHEME,
  CONTENT_SECURITY_POLICY,
  externalUrlToOpen,
  isAppUrl,
  isNavigationAllowed,
  isPermissionGranted,
  resolveAppAsset,
} from './security-policy.js';
import { captureWindowState, fitToDisplays } from './window-state.js';

/**
 * The desktop shell. It stays thin: every decision lives in a plain module that
 * is tested in Node; this file only connects those decisions to Electron.
 */

const rendererDir = join(import.meta.dirname, '..', 'renderer');
const preloadPath = join(import.meta.dirname, '..', 'preload', 'preload.cjs');
const settingsPath = (): string => join(app.getPath('userData'), 'desktop-settings.json');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();
// A separate profile (and so a separate single-instance lock) for end-to-end tests and side-by-side runs.
if (process.env.CHORUS_USER_DATA_DIR) app.setPath('userData', resolve(process.env.CHORUS_USER_DATA_DIR));
if (process.platform === 'darwin') app.commandLine.appendSwitch('enable-features', MAC_LOOPBACK_FEATURES.join(','));

const singleInstance = app.requestSingleInstanceLock();
if (!singleInstance) app.quit();

// Deep links: registered for chorus://; in development Electron runs as `electron <app path>`, which the OS must repeat.
if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [resolve(process.argv[1])]);
else app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);

let mainWindow: BrowserWindow | undefined;
let quitting = false;
/** Set once the protocol, IPC handlers and first window exist; before that, links only queue. */
let initialised = false;

function send<K extends IpcEventChannel>(channel: K, payload: IpcEventChannels[K]): boolean {
  if (!mainWindow || mainWindow.isDestroyed()) return false;
  mainWindow.webContents.send(channel, payload);
  return true;
}

function showWindow(): void {
  if (!initialised) return;
  if (!mainWindow || mainWindow.isDestroyed()) {
    mainWindow = createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

const deepLinks = new DeepLinkRouter(
  (invite) => send('app:deep-link', invite),
  (error) => void dialog.showMessageBox({ type: 'warning', message: 'Chorus cannot open that link', detail: error }),
);
// macOS delivers links by event, possibly before 'ready'; Windows and Linux put them in argv.
app.on('open-url', (event, url) => {
  event.preventDefault();
  deepLinks.receive(parseInviteLink(url));
  showWindow();
});
deepLinks.receive(inviteFromArgv(process.argv));
app.on('second-instance', (_event, argv) => {
  deepLinks.receive(inviteFromArgv(argv));
  showWindow();
});

const settingsReady = app.whenReady().then(() => loadSettings(settingsPath()));

function createWindow(): BrowserWindow {
  const saved = settingsCache ? fitToDisplays(settingsCache.window, screen.getAllDisplays().map((d) => d.workArea)) : undefined;
  const window = new BrowserWindow({
    width: saved?.width ?? 1280,
    height: saved?.height ?? 800,
    ...(saved?.x !== undefined && saved.y !== undefined ? { x: saved.x, y: saved.y } : {}),
    minWidth: 800,
    minHeight: 560,
    title: 'Chorus',
    show: false,
    webPreferences: { preload: preloadPath, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  if (saved?.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.webContents.on('will-navigate', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    const external = externalUrlToOpen(url);
    if (external) void shell.openExternal(external);
    return { action: 'deny' };
  });
  // A reload or a crashed page drops its subscriptions: hold deep links and cancel open pickers until it is back.
  window.webContents.on('did-start-loading', () => {
    deepLinks.rendererGone();
    captureBroker?.cancelAll();
  });
  window.webContents.on('render-process-gone', () => {
    deepLinks.rendererGone();
    captureBroker?.cancelAll();
  });
  let saveTimer: NodeJS.Timeout | undefined;
  const rememberState = (): void => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      if (window.isDestroyed() || !settingsCache) return;
      settingsCache.window = captureWindowState(window.getNormalBounds(), window.isMaximized());
      void saveSettings(settingsPath(), settingsCache).catch(() => undefined);
    }, 500);
  };
  window.on('resize', rememberState);
  window.on('move', rememberState);
  window.on('maximize', rememberState);
  window.on('unmaximize', rememberState);
  window.on('close', (event) => {
    if (settingsCache) {
      clearTimeout(saveTimer);
      settingsCache.window = captureWindowState(window.getNormalBounds(), window.isMaximized());
      void saveSettings(settingsPath(), settingsCache).catch(() => undefined);
    }
    if (decideWindowClose({ status: supervisor?.status() ?? { state: 'stopped' }, quitting }) === 'hide-to-tray') {
      event.preventDefault();
      window.hide();
      tray?.update(supervisor!.status(), true);
    }
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
    deepLinks.rendererGone();
  });
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}

let settingsCache: Awaited<typeof settingsReady> | undefined;
let supervisor: ReturnType<typeof createHostSupervisor> | undefined;
let tray: HostTray | undefined;
let captureBroker: CapturePickerBroker<Electron.DesktopCapturerSource> | undefined;

/** Registers an invoke handler behind the sender check and argument validation. */
function handle<K extends IpcInvokeChannel>(channel: K, handler: (...args: IpcInvokeChannels[K]['args']) => IpcInvokeChannels[K]['result'] | Promise<IpcInvokeChannels[K]['result']>): void {
  ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
    const frame = event.senderFrame;
    const trusted = isTrustedSender({
      frameUrl: frame?.url,
      isMainFrameOfOurWindow: Boolean(frame && mainWindow && !mainWindow.isDestroyed() && frame === mainWindow.webContents.mainFrame),
    });
    if (!trusted) throw new Error('IPC refused: unknown sender');
    const checked = validateInvokeArgs(channel, args);
    if (!checked.ok) throw new Error(`IPC refused: ${checked.error}`);
    return handler(...checked.args);
  });
}

/**
 * This machine's renderer talks to its own server over TLS too, so the server's
 * addresses are pinned to the certificate it reported. Kept apart from the saved
 * pins: a LAN address is only ours while we hold it.
 */
const ownServerTrust = new TrustedServers();
function trustOwnServer(info: HostInfo): void {
  for (const url of [info.localUrl, ...info.lanUrls]) ownServerTrust.pin(url, info.fingerprint);
}

const refusedShown = new Set<string>();
/**
 * Installed once: it reads the pins live, so a new pin applies to the next
 * verification. Chromium caches each verdict per certificate and host (calling
 * setCertificateVerifyProc again does not clear that cache), which is why the
 * renderer pins a server before its first request to it.
 */
function installCertificateVerifier(): void {
  session.defaultSession.setCertificateVerifyProc((request, callback) => {
    const check = { hostname: request.hostname, certificatePem: request.certificate.data, verificationResult: request.verificationResult };
    const own = decideCertificateTrust(check, ownServerTrust);
    const decision = own.action === 'accept' || !settingsCache ? own : decideCertificateTrust(check, settingsCache.trustedServers);
    if (decision.action === 'refuse' && !refusedShown.has(decision.explanation)) {
      refusedShown.add(decision.explanation);
      void dialog.showMessageBox({ type: 'error', message: 'Chorus refused an untrusted connection', detail: decision.explanation });
    }
    callback(verifyProcResult(decision));
  });
}

async function startHosting(): Promise<HostInfo> {
  if (settingsCache && !settingsCache.firewallNoticeShown) {
    settingsCache.firewallNoticeShown = true;
    void saveSettings(settingsPath(), settingsCache).catch(() => undefined);
    await dialog.showMessageBox({ type: 'info', message: FIREWALL_NOTICE.message, detail: FIREWALL_NOTICE.detail });
  }
  return supervisor!.start();
}

let quitFlowRunning = false;
async function quitFlow(): Promise<void> {
  // A second Cmd+Q while the question is open must not stack a second dialog.
  if (quitFlowRunning) return;
  quitFlowRunning = true;
  try {
    await askAndQuit();
  } finally {
    quitFlowRunning = false;
  }
}

async function askAndQuit(): Promise<void> {
  const status = supervisor?.status() ?? { state: 'stopped' as const };
  const decision = decideQuit({ status, activeMeetings: (await supervisor?.activeMeetings()) ?? 0 });
  if (decision.action === 'ask') {
    const { response } = await dialog.showMessageBox({ type: 'question', ...decision.prompt });
    if (quitChoiceFromResponse(response) === 'keep-hosting') {
      mainWindow?.hide();
      tray?.update(status, true);
      return;
    }
  }
  quitting = true;
  await supervisor?.stop({ endMeetings: true }).catch(() => undefined);
  app.quit();
}

void settingsReady.then((settings) => {
  if (!singleInstance) return;
  settingsCache = settings;
  protocol.handle(APP_SCHEME, async (request) => {
    const asset = resolveAppAsset(request.url);
    if (!asset) return new Response('Not found', { status: 404 });
    const file = await net.fetch(pathToFileURL(join(rendererDir, asset.relativePath)).toString()).catch(() => undefined);
    if (!file || !file.ok) return new Response('Not found', { status: 404 });
    return new Response(file.body, { headers: { 'Content-Type': asset.mimeType, 'Content-Security-Policy': CONTENT_SECURITY_POLICY } });
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((webContents, permission, callback) => callback(isPermissionGranted(permission, webContents.getURL())));
  ses.setPermissionCheckHandler((_webContents, permission, requestingOrigin) => isPermissionGranted(permission, requestingOrigin));
  installCertificateVerifier();

  const plan = planDisplayCapture({ platform: process.platform, osRelease: release(), env: process.env });
  captureBroker = new CapturePickerBroker({
    plan,
    isOwnOrigin: isAppUrl,
    listSources: () => desktopCapturer.getSources({ types: ['screen', 'window'], thumbnailSize: { width: 320, height: 180 }, fetchWindowIcons: true }),
    showPicker: (request) => send('capture:picker-request', request),
    newRequestId: () => randomUUID(),
    refreshIntervalMs: 1_500,
  });
  const broker = captureBroker;
  ses.setDisplayMediaRequestHandler((request, callback) => void broker.handle(request, (grant) => callback(grant)), { useSystemPicker: plan.useSystemPicker });

  supervisor = createHostSupervisor(app.getPath('userData'));
  const host = supervisor;
  tray = new HostTray((action) => {
    if (action === 'show-window') showWindow();
    else if (action === 'stop-hosting') void host.stop({ endMeetings: true });
    else void quitFlow();
  });
  host.on('status', (status) => {
    send('host:status-changed', status);
    if (status.state === 'running') trustOwnServer(status.info);
    tray?.update(status, Boolean(mainWindow && !mainWindow.isVisible()));
  });
  host.on('notice', (message) => void dialog.showMessageBox({ type: 'warning', message: 'Hosting works, with a limit', detail: message }));

  const discovery = new ServerBrowser((error) => console.warn(JSON.stringify({ event: 'mdns_browse_failed', message: error.message })));
  discovery.on('servers', (servers) => send('discovery:servers-changed', servers));

  handle('app:version', () => app.getVersion());
  handle('app:take-pending-deep-link', () => deepLinks.takePending());
  handle('host:start', () => startHosting());
  handle('host:stop', async (opts) => {
    try {
      await host.stop(opts);
    } catch (error) {
      // The renderer sees the code and can ask the user whether to end the meetings.
      if (error instanceof HostError) throw new Error(`${error.code}: ${error.message}`, { cause: error });
      throw error;
    }
  });
  handle('host:status', () => host.status());
  handle('discovery:list', () => discovery.list());
  handle('capture:choose', (requestId, choice) => {
    const result = broker.choose(requestId, choice);
    if (!result.ok) throw new Error(result.error);
  });
  handle('trust:pin-server', async (serverUrl, fingerprint) => {
    const pinned = settingsCache!.trustedServers.pin(serverUrl, fingerprint);
    if (!pinned.ok) throw new Error(pinned.error);
    await saveSettings(settingsPath(), settingsCache!);
  });

  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    void quitFlow();
  });
  app.on('will-quit', () => discovery.close());

  mainWindow = createWindow();
  initialised = true;
  app.on('activate', () => showWindow());
});

app.on('window-all-closed', () => {
  // While hosting, the tray keeps the app (and the meeting) alive.
  if (supervisor && decideWindowClose({ status: supervisor.status(), quitting }) === 'hide-to-tray') return;
  if (process.platform !== 'darwin') app.quit();
});
