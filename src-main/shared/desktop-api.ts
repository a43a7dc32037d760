/**
 * The one API the preload script exposes to the renderer, as `window.chorusDesktop`.
 * Its absence is how the renderer knows it runs as a plain web page.
 * Every member is a named, typed function: the renderer never sees ipcRenderer.
 */
export interface DesktopApi {
  readonly kind: 'chorus-desktop';
  appVersion(): Promise<string>;
}

/** IPC channels between the preload and the main process, with their argument and result types. */
export interface IpcChannels {
  'app:version': { args: []; result: string };
}

export type IpcChannel = keyof IpcChannels;

export const DESKTOP_API_GLOBAL = 'chorusDesktop';
