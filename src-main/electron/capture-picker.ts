import type { CaptureChoice, CapturePickerRequest, CaptureSource } from '../shared/desktop-api.js';

/**
 * Screen sharing for getDisplayMedia. main.ts installs
 * session.setDisplayMediaRequestHandler and hands each request to the broker
 * below, which decides, without Electron, how it is answered:
 * - our own window's requests only;
 * - on Linux under Wayland, the desktop portal is the picker (Chromium shows it
 *   when the one source it lists starts streaming), so the request is granted
 *   that source directly;
 * - elsewhere the renderer shows our picker (capture.onPickerRequest) and
 *   answers with capture.choose, or cancels with null;
 * - system audio ('loopback') only where Electron supports it.
 */

export interface CaptureEnvironment {
  platform: NodeJS.Platform;
  /** os.release(): the Darwin kernel version on macOS. */
  osRelease: string;
  env: Record<string, string | undefined>;
}

export interface CapturePlan {
  /** Wayland: the xdg-desktop-portal picker chooses; our picker is not shown. */
  mode: 'app-picker' | 'portal';
  /** Pass `useSystemPicker: true` to setDisplayMediaRequestHandler (macOS 15+, where Electron supports it). */
  useSystemPicker: boolean;
  audioAvailable: boolean;
}

/** Chromium features that route getDisplayMedia's 'loopback' audio through ScreenCaptureKit on macOS. */
export const MAC_LOOPBACK_FEATURES = ['MacLoopbackAudioForScreenShare', 'MacSckSystemAudioLoopbackOverride'];

function darwinMajor(osRelease: string): number {
  const major = Number.parseInt(osRelease.split('.')[0] ?? '', 10);
  return Number.isFinite(major) ? major : 0;
}

export function isWaylandSession(env: Record<string, string | undefined>): boolean {
  return env.XDG_SESSION_TYPE?.toLowerCase() === 'wayland' || Boolean(env.WAYLAND_DISPLAY);
}

export function planDisplayCapture(environment: CaptureEnvironment): CapturePlan {
  const { platform, osRelease, env } = environment;
  if (platform === 'linux' && isWaylandSession(env)) return { mode: 'portal', useSystemPicker: false, audioAvailable: false };
  // Darwin 24 is macOS 15, the first with the ScreenCaptureKit system picker Electron can use.
  const macSystemPicker = platform === 'darwin' && darwinMajor(osRelease) >= 24;
  // Loopback system audio: Windows (WASAPI loopback, which Electron documents); macOS 13+ (Darwin 22)
  // through ScreenCaptureKit audio, which Chromium gates behind MAC_LOOPBACK_FEATURES (main.ts enables them).
  const audioAvailable = platform === 'win32' || (platform === 'darwin' && darwinMajor(osRelease) >= 22);
  return { mode: 'app-picker', useSystemPicker: macSystemPicker, audioAvailable };
}

/** What the broker needs of an Electron DesktopCapturerSource. */
export interface CapturerSourceLike {
  id: string;
  name: string;
  thumbnail: { toDataURL(): string; isEmpty(): boolean };
  appIcon: { toDataURL(): string; isEmpty(): boolean } | null;
}

/** desktopCapturer ids are `screen:<n>:<m>` or `window:<n>:<m>`. */
export function toCaptureSource(source: CapturerSourceLike): CaptureSource | undefined {
  const kind = source.id.startsWith('screen:') ? 'screen' : source.id.startsWith('window:') ? 'window' : undefined;
  if (!kind) return undefined;
  const mapped: CaptureSource = {
    id: source.id,
    name: source.name || (kind === 'screen' ? 'Screen' : 'Window'),
    kind,
    thumbnailDataUrl: source.thumbnail.isEmpty() ? '' : source.thumbnail.toDataURL(),
  };
  if (source.appIcon && !source.appIcon.isEmpty()) mapped.appIconDataUrl = source.appIcon.toDataURL();
  return mapped;
}

/** Screens first (in the OS's order), then windows by name. */
export function orderSources(sources: CaptureSource[]): CaptureSource[] {
  const screens = sources.filter((s) => s.kind === 'screen');
  const windows = sources.filter((s) => s.kind === 'window').sort((a, b) => a.name.localeCompare(b.name));
  return [...screens, ...windows];
}

export interface DisplayRequest {
  securityOrigin: string;
  videoRequested: boolean;
}

/** The answer to a display-media request: Electron's Streams, or null to refuse/cancel. */
export type CaptureGrant<S> = { video: S; audio?: 'loopback' } | null;

export interface CaptureBrokerDeps<S extends CapturerSourceLike> {
  plan: CapturePlan;
  isOwnOrigin(origin: string): boolean;
  listSources(): Promise<S[]>;
  /** Shows the picker in the renderer; false when there is no window to show it in. */
  showPicker(request: CapturePickerRequest): boolean;
  newRequestId(): string;
  timers?: { setTimeout(cb: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  /** An unanswered picker is cancelled after this long, so getDisplayMedia never hangs. */
  pickerTimeoutMs?: number;
  /** While a picker is open its sources are listed again this often and re-sent (same requestId): live thumbnails. 0 turns it off. */
  refreshIntervalMs?: number;
}

interface PendingPick<S> {
  sources: Map<string, S>;
  audioAvailable: boolean;
  answer(grant: CaptureGrant<S>): void;
  timer: unknown;
  refreshTimer?: unknown;
}

function mapSources<S extends CapturerSourceLike>(sources: S[]): { offered: Map<string, S>; views: CaptureSource[] } {
  const offered = new Map<string, S>();
  const views: CaptureSource[] = [];
  for (const source of sources) {
    const view = toCaptureSource(source);
    if (!view) continue;
    offered.set(view.id, source);
    views.push(view);
  }
  return { offered, views: orderSources(views) };
}

export type ChooseResult = { ok: true } | { ok: false; error: string };

export class CapturePickerBroker<S extends CapturerSourceLike> {
  private pending = new Map<string, PendingPick<S>>();
  private readonly timers: NonNullable<CaptureBrokerDeps<S>['timers']>;

  constructor(private readonly deps: CaptureBrokerDeps<S>) {
    this.timers = deps.timers ?? { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  }

  /** Handles one getDisplayMedia request; `answer` is called exactly once. */
  async handle(request: DisplayRequest, answer: (grant: CaptureGrant<S>) => void): Promise<void> {
    let answered = false;
    const once = (grant: CaptureGrant<S>): void => {
      if (answered) return;
      answered = true;
      answer(grant);
    };
    if (!request.videoRequested || !this.deps.isOwnOrigin(request.securityOrigin)) return once(null);
    let sources: S[];
    try {
      sources = await this.deps.listSources();
    } catch {
      return once(null);
    }
    if (this.deps.plan.mode === 'portal') {
      const [portalSource] = sources;
      return once(portalSource ? { video: portalSource } : null);
    }
    const { offered, views } = mapSources(sources);
    if (views.length === 0) return once(null);
    // One picker at a time: a newer request replaces (cancels) an older one.
    this.cancelAll();
    const requestId = this.deps.newRequestId();
    const timer = this.timers.setTimeout(() => this.settle(requestId, null), this.deps.pickerTimeoutMs ?? 120_000);
    const pick: PendingPick<S> = { sources: offered, audioAvailable: this.deps.plan.audioAvailable, answer: once, timer };
    this.pending.set(requestId, pick);
    const shown = this.deps.showPicker({ requestId, sources: views, audioAvailable: this.deps.plan.audioAvailable });
    if (!shown) this.settle(requestId, null);
    else this.scheduleRefresh(requestId, pick);
  }

  private scheduleRefresh(requestId: string, pick: PendingPick<S>): void {
    const interval = this.deps.refreshIntervalMs ?? 0;
    if (interval <= 0) return;
    pick.refreshTimer = this.timers.setTimeout(() => void this.refresh(requestId, pick), interval);
  }

  /** Lists the sources again and re-sends the open picker: new thumbnails, new windows, closed ones gone. */
  private async refresh(requestId: string, pick: PendingPick<S>): Promise<void> {
    let sources: S[];
    try {
      sources = await this.deps.listSources();
    } catch {
      sources = [];
    }
    if (this.pending.get(requestId) !== pick) return;
    const { offered, views } = mapSources(sources);
    if (views.length > 0) {
      pick.sources = offered;
      if (!this.deps.showPicker({ requestId, sources: views, audioAvailable: pick.audioAvailable })) return this.settle(requestId, null);
    }
    this.scheduleRefresh(requestId, pick);
  }

  /** The renderer's answer. A source that was not offered is refused and the request cancelled. */
  choose(requestId: string, choice: CaptureChoice | null): ChooseResult {
    const pick = this.pending.get(requestId);
    if (!pick) return { ok: false, error: 'No screen-share request is waiting for that answer (it was answered, cancelled or timed out)' };
    if (choice === null) {
      this.settle(requestId, null);
      return { ok: true };
    }
    const source = pick.sources.get(choice.sourceId);
    if (!source) {
      this.settle(requestId, null);
      return { ok: false, error: 'That screen or window was not offered; the share was cancelled' };
    }
    this.settle(requestId, choice.audio && pick.audioAvailable ? { video: source, audio: 'loopback' } : { video: source });
    return { ok: true };
  }

  /** Cancels every open picker (window closed or reloaded). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, null);
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  private settle(requestId: string, grant: CaptureGrant<S>): void {
    const pick = this.pending.get(requestId);
    if (!pick) return;
    this.pending.delete(requestId);
    this.timers.clearTimeout(pick.timer);
    if (pick.refreshTimer !== undefined) this.timers.clearTimeout(pick.refreshTimer);
    pick.answer(grant);
  }
}
