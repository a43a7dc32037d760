import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildHarness } from './build-harness.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The wrapper below (and the namespace wrappers that call it) read the binary from here.
process.env.CHROMIUM_PATH = CHROMIUM_PATH;
/** What the suites launch: CHROMIUM_PATH, started at niceness 0 (see harness/server-priority.ts). */
export const CHROMIUM_EXECUTABLE = fileURLToPath(new URL('./chromium-at-normal-priority.sh', import.meta.url));

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // 5 frames a second (Chromium's minimum): four meeting pages each encoding their camera and
  // decoding three others at the default 30 starved a 2-core machine until the SDK's own
  // 15 s join timeouts fired. Tests assert frames decoding, not a frame rate.
  '--use-fake-device-for-media-stream=fps=5',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export interface HarnessBrowser {
  browser: Browser;
  url: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Real headless Chromium with fake devices, and a loopback page that loads the harness. (Code passed to page.evaluate runs in the page; it says globalThis, so this module also type-checks for Node, where the join benchmark uses it.) */
export async function launchHarness(options: { cameraFps?: number } = {}): Promise<HarnessBrowser> {
  const script = await buildHarness();
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>harness</title></head><body><script type="module" src="/harness.js"></script></body></html>';
  const server: Server = createServer((req, res) => {
    if (req.url === '/harness.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(script);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // Playwright gives every launch a fresh temporary user-data-dir of its own.
  // Benchmarks ask for a real camera's frame rate; the tests keep the light one.
  const args = options.cameraFps === undefined ? CHROMIUM_ARGS : CHROMIUM_ARGS.map((a) => (a.startsWith('--use-fake-device-for-media-stream') ? `--use-fake-device-for-media-stream=fps=${options.cameraFps}` : a));
  const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args, headless: true });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    url,
    async newPage() {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error('[page error]', error.message));
      await page.goto(url);
      await page.waitForFunction(() => 'harness' in globalThis);
      return page;
    },
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HarnessSnapshot {
  started: boolean;
  stopped?: { code: number; name: string };
  canStartLocalVideo: boolean;
  videoSendUnavailable: boolean;
  presence: Record<string, boolean>;
  localTile: boolean;
  remote: { tileId: number; attendeeId: string; isContent: boolean; width: number; height: number; frames: number; firstFrameAt?: number }[];
  /** performance.now() in the page when audioVideo.start() was called. */
  startCalledAt?: number;
  events: string[];
  contentShare: string[];
}

export interface VolumeSample { attendeeId: string; volume: number | null; muted: boolean | null; at: number }

type VideoCodecName = 'vp8' | 'h264' | 'h264High' | 'vp9' | 'av1';

type HarnessApi = {
  join(m: unknown, a: unknown, o: { video: boolean; toneHz?: number; dataTopics?: string[]; logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'; simulcast?: boolean; svc?: boolean; sendCodecs?: VideoCodecName[]; downlinkPolicy?: 'priority' | 'priority-client'; contentSendCodecs?: VideoCodecName[]; contentSvc?: boolean }): Promise<void>;
  rtcStats(): Promise<Record<string, unknown>[]>;
  sentVideo(): Promise<{ codec?: string; scalabilityMode?: string; framesEncoded?: number }[]>;
  preferVideos(preferences: { attendeeId: string; priority: number; size: 'Low' | 'Medium' | 'High' | 'Maximum' }[]): void;
  sendData(topic: string, prefix: string, lifetimeMs: number, count?: number): void;
  dataMessages(): import('./harness-data.js').ReceivedDataMessage[];
  setMuted(muted: boolean): void;
  measureAudio(frequencies: number[], ms: number): Promise<Record<string, number>>;
  volumeSamples(since: number): VolumeSample[];
  now(): number;
  startVideo(): void;
  stopVideo(): void;
  shareCanvas(options?: { busy?: boolean }): Promise<void>;
  stopContentShare(): void;
  leave(): Promise<void>;
  negotiation(): { peerConnections: number; signalingState: string; stoppingTransceivers: number };
  encoderUpdateRace(serialized: boolean): Promise<{ failures: string[]; maxInFlight: number; maxBitrate: number | undefined }>;
};

/** Calls one harness function in the page. */
export function harness<K extends keyof HarnessApi>(page: Page, name: K, ...args: Parameters<HarnessApi[K]>): Promise<Awaited<ReturnType<HarnessApi[K]>>> {
  return page.evaluate(
    ([n, a]) => {
      const api = (globalThis as unknown as { harness: Record<string, (...x: unknown[]) => unknown> }).harness;
      return api[n as string]!(...(a as unknown[]));
    },
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<HarnessApi[K]>>>;
}

export function snapshot(page: Page): Promise<HarnessSnapshot> {
  return page.evaluate(() => (globalThis as unknown as { harness: { snapshot(): HarnessSnapshot } }).harness.snapshot());
}

/** Polls the page until `predicate` holds, failing with the last snapshot. */
export async function waitForSnapshot(page: Page, predicate: (s: HarnessSnapshot) => boolean, timeoutMs = 30_000): Promise<HarnessSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: HarnessSnapshot | undefined;
  while (Date.now() < deadline) {
    last = await snapshot(page);
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out; last snapshot: ${JSON.stringify(last)}`);
}
