// A recording stand-in for the `electron` module, so the built main process
// (dist/electron/main.js) runs in plain Node. Boundary mock: Electron itself cannot be
// downloaded or launched here. It records what main.js asks of Electron and lets the
// test (over the fork IPC channel) call the handlers main.js installed. Everything
// behind those handlers is real, including the utility process, which this stand-in
// runs as a Node child with an emulated parentPort (utility-process-adapter.ts).
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const ADAPTER = fileURLToPath(new URL('./utility-process-adapter.ts', import.meta.url));

const state = {
  privilegedSchemes: [],
  sandbox: false,
  switches: [],
  singleInstanceRequested: false,
  protocolClients: [],
  paths: {},
  ipcHandlers: new Map(),
  protocolHandlers: new Map(),
  permissionRequest: undefined,
  permissionCheck: undefined,
  verifyProc: undefined,
  displayMedia: undefined,
  displayMediaOptions: undefined,
  windows: [],
  sent: [],
  dialogs: [],
  dialogResponse: 0,
  opened: [],
  quitCalls: 0,
  trays: [],
  grants: [],
  utilityChildren: [],
};

class FakeEvent {
  defaultPrevented = false;
  preventDefault() {
    this.defaultPrevented = true;
  }
}

export const app = Object.assign(new EventEmitter(), {
  enableSandbox: () => (state.sandbox = true),
  commandLine: { appendSwitch: (name, value) => state.switches.push([name, value]) },
  requestSingleInstanceLock: () => ((state.singleInstanceRequested = true), true),
  setAsDefaultProtocolClient: (scheme, ...rest) => (state.protocolClients.push([scheme, ...rest]), true),
  setPath: (name, value) => (state.paths[name] = value),
  getPath: (name) => state.paths[name] ?? process.env.CHORUS_USER_DATA_DIR,
  getVersion: () => '0.1.0',
  whenReady: () => Promise.resolve(),
  isReady: () => true,
  quit: () => {
    state.quitCalls += 1;
    const event = new FakeEvent();
    app.emit('before-quit', event);
  },
  exit: () => undefined,
});

export const protocol = {
  registerSchemesAsPrivileged: (schemes) => state.privilegedSchemes.push(...schemes),
  handle: (scheme, handler) => state.protocolHandlers.set(scheme, handler),
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h) => (state.permissionRequest = h),
    setPermissionCheckHandler: (h) => (state.permissionCheck = h),
    setCertificateVerifyProc: (p) => (state.verifyProc = p),
    setDisplayMediaRequestHandler: (h, opts) => ((state.displayMedia = h), (state.displayMediaOptions = opts)),
  },
};

export const ipcMain = {
  handle: (channel, handler) => state.ipcHandlers.set(channel, handler),
};

export class BrowserWindow extends EventEmitter {
  static getAllWindows = () => state.windows.filter((w) => !w.destroyed);
  constructor(options) {
    super();
    this.options = options;
    this.url = undefined;
    this.visible = false;
    this.destroyed = false;
    this.maximized = false;
    const mainFrame = { url: 'app://chorus/index.html' };
    this.webContents = Object.assign(new EventEmitter(), {
      mainFrame,
      getURL: () => this.url,
      send: (channel, payload) => state.sent.push({ channel, payload }),
      setWindowOpenHandler: (h) => (this.windowOpenHandler = h),
    });
    state.windows.push(this);
  }
  loadURL(url) {
    this.url = url;
    void Promise.resolve().then(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {}
  restore() {}
  maximize() {
    this.maximized = true;
  }
  isMaximized() {
    return this.maximized;
  }
  isMinimized() {
    return false;
  }
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return this.destroyed;
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: this.options.width, height: this.options.height };
  }
}

export const screen = { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] };

const image = (id) => ({ toDataURL: () => `data:image/png;base64,${id}`, isEmpty: () => false });
export const desktopCapturer = {
  getSources: async () => [
    { id: 'screen:0:0', name: 'Entire screen', display_id: '0', thumbnail: image('s0'), appIcon: null },
    { id: 'window:42:0', name: 'Slides', display_id: '', thumbnail: image('w42'), appIcon: image('icon') },
  ],
};

export const dialog = {
  showMessageBox: async (...args) => {
    const options = args.length > 1 ? args[1] : args[0];
    state.dialogs.push(options);
    return { response: state.dialogResponse, checkboxChecked: false };
  },
};

export const shell = { openExternal: async (url) => state.opened.push(url) };
export const net = { fetch: (url) => globalThis.fetch(url) };

export const Menu = { buildFromTemplate: (template) => ({ template }) };
export const nativeImage = {
  createFromDataURL: (url) => ({ url, addRepresentation: () => undefined, setTemplateImage: () => undefined }),
};
export class Tray extends EventEmitter {
  constructor(img) {
    super();
    this.image = img;
    this.destroyed = false;
    state.trays.push(this);
  }
  setToolTip(text) {
    this.tooltip = text;
  }
  setContextMenu(menu) {
    this.menu = menu;
  }
  destroy() {
    this.destroyed = true;
  }
}

export const utilityProcess = {
  fork: (modulePath, _args, options) => {
    const child = fork(ADAPTER, [modulePath], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, CHORUS_ACCESS_KEY_ID: '', CHORUS_SECRET_ACCESS_KEY: '' } });
    child.stderr.resume();
    state.utilityChildren.push({ pid: child.pid, modulePath, serviceName: options?.serviceName });
    const proc = Object.assign(new EventEmitter(), {
      pid: child.pid,
      postMessage: (message) => {
        // Tests never open LAN ports or announce on the network: the stand-in binds loopback.
        const rewritten = message?.type === 'start' ? { ...message, options: { ...message.options, host: '127.0.0.1', port: 0, advertise: false } } : message;
        if (child.connected) child.send(rewritten);
      },
      kill: () => child.kill('SIGKILL'),
    });
    child.on('message', (m) => proc.emit('message', m));
    child.on('exit', (code) => proc.emit('exit', code ?? 1));
    return proc;
  },
};

export default { app, protocol, session, ipcMain, BrowserWindow, screen, desktopCapturer, dialog, shell, net, Menu, nativeImage, Tray, utilityProcess };

// ---- control channel for the test ----

function serialisable(value) {
  return JSON.parse(JSON.stringify(value ?? null));
}

const ops = {
  state: () => ({
    privilegedSchemes: state.privilegedSchemes,
    sandbox: state.sandbox,
    singleInstanceRequested: state.singleInstanceRequested,
    protocolClients: state.protocolClients,
    ipcChannels: [...state.ipcHandlers.keys()].sort(),
    protocolHandlers: [...state.protocolHandlers.keys()],
    windows: state.windows.map((w) => ({ options: w.options, url: w.url, visible: w.visible })),
    sent: state.sent,
    dialogs: state.dialogs,
    opened: state.opened,
    quitCalls: state.quitCalls,
    trays: state.trays.map((t) => ({ destroyed: t.destroyed, tooltip: t.tooltip, menu: t.menu?.template.map((i) => i.label ?? i.type) })),
    grants: state.grants,
    utilityChildren: state.utilityChildren,
    displayMediaOptions: state.displayMediaOptions,
  }),
  invoke: async ({ channel, args, sender }) => {
    const handler = state.ipcHandlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    const window = state.windows[0];
    const senderFrame = sender === 'main' ? window.webContents.mainFrame : sender === 'subframe' ? { url: 'app://chorus/index.html' } : { url: 'https://evil.example/' };
    if (sender === 'foreign-main') window.webContents.mainFrame.url = 'https://evil.example/';
    try {
      return await handler({ senderFrame }, ...args);
    } finally {
      window.webContents.mainFrame.url = 'app://chorus/index.html';
    }
  },
  verify: ({ hostname, pem, verificationResult }) =>
    new Promise((resolve) => state.verifyProc({ hostname, certificate: { data: pem }, verificationResult, errorCode: 0 }, resolve)),
  permission: ({ permission, url }) =>
    new Promise((resolve) => state.permissionRequest({ getURL: () => url }, permission, resolve)),
  'display-media': ({ origin }) => {
    state.displayMedia({ securityOrigin: origin, videoRequested: true, audioRequested: false, frame: null, userGesture: true }, (grant) =>
      state.grants.push(grant === null ? null : { video: grant.video.id, audio: grant.audio ?? null }),
    );
    return true;
  },
  'app-event': ({ event, args }) => {
    const e = new FakeEvent();
    app.emit(event, e, ...args);
    return { defaultPrevented: e.defaultPrevented };
  },
  'window-event': ({ event, args }) => {
    const e = new FakeEvent();
    state.windows[0].emit(event, e, ...args);
    return { defaultPrevented: e.defaultPrevented, visible: state.windows[0].visible };
  },
  'web-contents-event': ({ event, args }) => {
    const e = new FakeEvent();
    state.windows[0].webContents.emit(event, e, ...args);
    return { defaultPrevented: e.defaultPrevented };
  },
  'window-open': ({ url }) => state.windows[0].windowOpenHandler({ url }),
  'dialog-response': ({ response }) => (state.dialogResponse = response),
  'tray-click': ({ label }) => {
    const tray = state.trays.filter((t) => !t.destroyed).at(-1);
    const item = tray?.menu?.template.find((i) => i.label === label);
    if (!item?.click) throw new Error(`no tray item ${label}`);
    item.click();
    return true;
  },
};

process.on('message', async (message) => {
  if (!message || typeof message.op !== 'string' || !(message.op in ops)) return;
  try {
    const value = await ops[message.op](message.args ?? {});
    process.send?.({ reply: message.id, ok: true, value: serialisable(value) });
  } catch (error) {
    process.send?.({ reply: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
