import type { Invite } from './invite-link.js';

/**
 * The one API the preload script exposes to the renderer, as `window.chorusDesktop`
 * (see /work/team/CONTRACTS.md, "Desktop API"). Its absence is how the renderer
 * knows it runs as a plain web page. Every member is a named, typed function:
 * the renderer never sees ipcRenderer. Every `on…` subscription returns the
 * function that unsubscribes it.
 */
export interface DesktopApi {
  readonly kind: 'chorus-desktop';
  appVersion(): Promise<string>;
  readonly host: DesktopHostApi;
  readonly discovery: DesktopDiscoveryApi;
  readonly capture: DesktopCaptureApi;
  readonly trust: DesktopTrustApi;
  /** A chorus:// (or https://…/join/…) invite opened from outside the app. A link that arrived before the subscription is delivered to it. */
  onDeepLink(cb: (invite: Invite) => void): () => void;
}

/** Hosting: this machine runs the Chorus server (in a utility process) for the LAN. */
export interface DesktopHostApi {
  /** Starts the embedded server on the LAN interfaces with TLS and mDNS; resolves once it answers its health check. */
  start(): Promise<HostInfo>;
  /**
   * Stops hosting. `endMeetings: true` ends every meeting for everyone first.
   * With `endMeetings: false` it refuses while meetings run: the promise rejects
   * with an Error whose message contains `MEETINGS_IN_PROGRESS`, so the UI can ask.
   */
  stop(opts: { endMeetings: boolean }): Promise<void>;
  status(): Promise<HostStatus>;
  /** Every status change (starting, running, crashed and restarting, stopped). */
  onStatus(cb: (status: HostStatus) => void): () => void;
}

export interface HostInfo {
  /** Loopback URL of the embedded server, for this machine's own renderer. */
  localUrl: string;
  /** The URLs other machines on the LAN reach it at, one per interface. */
  lanUrls: string[];
  /** SHA-256 fingerprint of the server's TLS certificate (colon-separated upper-case hex); goes into invite links. */
  fingerprint: string;
  /** `Authorization: Bearer …` token for host-only app API calls and GET /events. */
  bearerToken: string;
}

export type HostStatus =
  | { state: 'stopped' }
  | { state: 'starting' }
  | { state: 'running'; info: HostInfo }
  | { state: 'crashed'; message: string; restarting: boolean };

export interface DesktopDiscoveryApi {
  /** The Chorus servers announced on the LAN via mDNS (`_chorus._tcp`); called with the full list on every change, and once on subscribing. */
  onServers(cb: (servers: DiscoveredServer[]) => void): () => void;
}

export interface DiscoveredServer {
  name: string;
  serverUrl: string;
  fingerprint?: string;
}

export interface DesktopCaptureApi {
  /**
   * A page asked for getDisplayMedia: show a picker, then answer with choose().
   * While the picker is open the same request (same requestId) arrives again
   * about every 1.5 s with fresh thumbnails and the current windows: replace the
   * shown sources, keep the picker open. A request with a new requestId means the
   * previous one was cancelled.
   */
  onPickerRequest(cb: (request: CapturePickerRequest) => void): () => void;
  /** The user's choice for a picker request; null cancels the share. */
  choose(requestId: string, choice: CaptureChoice | null): Promise<void>;
}

export interface CapturePickerRequest {
  requestId: string;
  sources: CaptureSource[];
  /** True where the OS can share system audio (Windows, macOS). */
  audioAvailable: boolean;
}

export interface CaptureSource {
  id: string;
  name: string;
  kind: 'screen' | 'window';
  thumbnailDataUrl: string;
  appIconDataUrl?: string;
}

export interface CaptureChoice {
  sourceId: string;
  audio: boolean;
}

export interface DesktopTrustApi {
  /** Pins a remote server's certificate fingerprint (from an invite) before joining it. */
  pinServer(serverUrl: string, fingerprint: string): Promise<void>;
}

/**
 * Request/response channels (ipcRenderer.invoke -> ipcMain.handle), with their
 * argument and result types. The main process validates every argument list
 * before use (src-main/electron/ipc-validation.ts): the types are a promise, not a check.
 */
export interface IpcInvokeChannels {
  'app:version': { args: []; result: string };
  /** The deep link that arrived before the renderer subscribed, taken once. */
  'app:take-pending-deep-link': { args: []; result: Invite | null };
  'host:start': { args: []; result: HostInfo };
  'host:stop': { args: [opts: { endMeetings: boolean }]; result: void };
  'host:status': { args: []; result: HostStatus };
  'discovery:list': { args: []; result: DiscoveredServer[] };
  'capture:choose': { args: [requestId: string, choice: CaptureChoice | null]; result: void };
  'trust:pin-server': { args: [serverUrl: string, fingerprint: string]; result: void };
}

/** One-way pushes from the main process to the renderer (webContents.send -> ipcRenderer.on). */
export interface IpcEventChannels {
  'host:status-changed': HostStatus;
  'discovery:servers-changed': DiscoveredServer[];
  'capture:picker-request': CapturePickerRequest;
  'app:deep-link': Invite;
}

export type IpcInvokeChannel = keyof IpcInvokeChannels;
export type IpcEventChannel = keyof IpcEventChannels;

/** Back-compat aliases: the invoke map is "the" channel map. */
export type IpcChannels = IpcInvokeChannels;
export type IpcChannel = IpcInvokeChannel;

/** Runtime lists of the channel names, kept in step with the maps by the `satisfies` checks. */
export const IPC_INVOKE_CHANNELS = [
  'app:version',
  'app:take-pending-deep-link',
  'host:start',
  'host:stop',
  'host:status',
  'discovery:list',
  'capture:choose',
  'trust:pin-server',
] as const satisfies readonly IpcInvokeChannel[];

export const IPC_EVENT_CHANNELS = [
  'host:status-changed',
  'discovery:servers-changed',
  'capture:picker-request',
  'app:deep-link',
] as const satisfies readonly IpcEventChannel[];

// Compile-time proof that the lists above name every channel in the maps.
type MissingInvoke = Exclude<IpcInvokeChannel, (typeof IPC_INVOKE_CHANNELS)[number]>;
type MissingEvent = Exclude<IpcEventChannel, (typeof IPC_EVENT_CHANNELS)[number]>;
const _everyInvokeChannelListed: [MissingInvoke] extends [never] ? true : never = true;
const _everyEventChannelListed: [MissingEvent] extends [never] ? true : never = true;

export const DESKTOP_API_GLOBAL = 'chorusDesktop';
