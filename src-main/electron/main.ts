import { app, BrowserWindow, ipcMain, net, protocol, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IpcChannels } from '../shared/desktop-api.js';
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

/**
 * The desktop shell. It stays thin: every decision lives in a plain module that
 * is tested in Node; this file only connects those decisions to Electron.
 */

const rendererDir = join(import.meta.dirname, '..', 'renderer');
const preloadPath = join(import.meta.dirname, '..', 'preload', 'preload.cjs');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
}

function handle<K extends keyof IpcChannels>(channel: K, handler: (...args: IpcChannels[K]['args']) => IpcChannels[K]['result'] | Promise<IpcChannels[K]['result']>): void {
  ipcMain.handle(channel, (event, ...args: unknown[]) => {
    // Only our own top-level page may call the main process.
    if (!event.senderFrame || !isAppUrl(event.senderFrame.url)) throw new Error('IPC refused: unknown sender');
    return handler(...(args as IpcChannels[K]['args']));
  });
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    title: 'Chorus',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.on('will-navigate', (event, url) => {
    if (!isNavigationAllowed(url)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    const external = externalUrlToOpen(url);
    if (external) void shell.openExternal(external);
    return { action: 'deny' };
  });
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}

void app.whenReady().then(() => {
  protocol.handle(APP_SCHEME, async (request) => {
    const asset = resolveAppAsset(request.url);
    if (!asset) return new Response('Not found', { status: 404 });
    const file = await net.fetch(pathToFileURL(join(rendererDir, asset.relativePath)).toString()).catch(() => undefined);
    if (!file || !file.ok) return new Response('Not found', { status: 404 });
    return new Response(file.body, {
      headers: { 'Content-Type': asset.mimeType, 'Content-Security-Policy': CONTENT_SECURITY_POLICY },
    });
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((webContents, permission, callback) => {
    callback(isPermissionGranted(permission, webContents.getURL()));
  });
  ses.setPermissionCheckHandler((_webContents, permission, requestingOrigin) => isPermissionGranted(permission, requestingOrigin));

  handle('app:version', () => app.getVersion());

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('second-instance', () => {
  const [window] = BrowserWindow.getAllWindows();
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
