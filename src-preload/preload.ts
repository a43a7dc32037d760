import { contextBridge, ipcRenderer } from 'electron';
import { DESKTOP_API_GLOBAL, type DesktopApi, type IpcChannel, type IpcChannels } from '../src-main/shared/desktop-api.js';

// Typed invoke, kept private to this script: the renderer only ever sees the named functions below.
function invoke<K extends IpcChannel>(channel: K, ...args: IpcChannels[K]['args']): Promise<IpcChannels[K]['result']> {
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcChannels[K]['result']>;
}

const api: DesktopApi = {
  kind: 'chorus-desktop',
  appVersion: () => invoke('app:version'),
};

contextBridge.exposeInMainWorld(DESKTOP_API_GLOBAL, api);
