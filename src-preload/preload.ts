import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  DESKTOP_API_GLOBAL,
  type DesktopApi,
  type IpcEventChannel,
  type IpcEventChannels,
  type IpcInvokeChannel,
  type IpcInvokeChannels,
} from '../src-main/shared/desktop-api.js';

// Typed invoke and subscribe, kept private to this script: the renderer only ever
// sees the named functions below, never ipcRenderer or an IPC event object.
function invoke<K extends IpcInvokeChannel>(channel: K, ...args: IpcInvokeChannels[K]['args']): Promise<IpcInvokeChannels[K]['result']> {
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcInvokeChannels[K]['result']>;
}

function subscribe<K extends IpcEventChannel>(channel: K, cb: (payload: IpcEventChannels[K]) => void): () => void {
  const listener = (_event: IpcRendererEvent, payload: IpcEventChannels[K]): void => cb(payload);
  ipcRenderer.on(channel, listener);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    ipcRenderer.removeListener(channel, listener);
  };
}

/**
 * Subscribes, then also hands the callback the current state from `snapshot`
 * (unless a push already arrived or the caller unsubscribed), so a late
 * subscriber does not miss what happened before it.
 */
function subscribeWithSnapshot<K extends IpcEventChannel>(
  channel: K,
  cb: (payload: IpcEventChannels[K]) => void,
  snapshot: () => Promise<IpcEventChannels[K] | null>,
): () => void {
  let pushed = false;
  let active = true;
  const unsubscribe = subscribe(channel, (payload) => {
    pushed = true;
    cb(payload);
  });
  void snapshot().then(
    (value) => {
      if (active && !pushed && value !== null) cb(value);
    },
    () => undefined,
  );
  return () => {
    active = false;
    unsubscribe();
  };
}

/**
 * Screen-share requests need a picker in the page. A page that shows none (an
 * older renderer, a screen without the picker mounted) would leave getDisplayMedia
 * waiting for minutes, so a request nobody listens for is cancelled at once:
 * sharing never starts without the user's choice.
 */
let pickerSubscribers = 0;
ipcRenderer.on('capture:picker-request', (_event: IpcRendererEvent, request: IpcEventChannels['capture:picker-request']) => {
  if (pickerSubscribers === 0) void invoke('capture:choose', request.requestId, null).catch(() => undefined);
});

function subscribePicker(cb: (request: IpcEventChannels['capture:picker-request']) => void): () => void {
  pickerSubscribers += 1;
  const unsubscribe = subscribe('capture:picker-request', cb);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    pickerSubscribers -= 1;
    unsubscribe();
  };
}

const api: DesktopApi = {
  kind: 'chorus-desktop',
  appVersion: () => invoke('app:version'),
  host: {
    start: () => invoke('host:start'),
    stop: (opts) => invoke('host:stop', { endMeetings: opts.endMeetings }),
    status: () => invoke('host:status'),
    onStatus: (cb) => subscribe('host:status-changed', cb),
  },
  discovery: {
    onServers: (cb) => subscribeWithSnapshot('discovery:servers-changed', cb, () => invoke('discovery:list')),
  },
  capture: {
    onPickerRequest: (cb) => subscribePicker(cb),
    choose: (requestId, choice) => invoke('capture:choose', requestId, choice === null ? null : { sourceId: choice.sourceId, audio: choice.audio }),
  },
  trust: {
    pinServer: (serverUrl, fingerprint) => invoke('trust:pin-server', serverUrl, fingerprint),
  },
  onDeepLink: (cb) => {
    let active = true;
    const unsubscribe = subscribe('app:deep-link', cb);
    // A link that launched the app arrived before any page could listen: main keeps it for the first subscriber.
    void invoke('app:take-pending-deep-link').then(
      (invite) => {
        if (active && invite) cb(invite);
      },
      () => undefined,
    );
    return () => {
      active = false;
      unsubscribe();
    };
  },
};

contextBridge.exposeInMainWorld(DESKTOP_API_GLOBAL, api);
