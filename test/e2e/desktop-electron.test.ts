import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, chromium, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatRoundTrip, expectVideoOf, joinAs } from './app-driver.js';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './harness/browser.js';

/**
 * The packaged shell end to end, through Playwright's Electron driver. It needs
 * the Electron binary, which cannot be downloaded on the build machines, so the
 * suite runs wherever one is present (node_modules/electron/dist after
 * `npx install-electron`, or $CHORUS_ELECTRON_PATH) and is skipped otherwise.
 * Requiring the 'electron' package is avoided on purpose: it starts a download.
 */
function electronBinary(): string | undefined {
  if (process.env.CHORUS_ELECTRON_PATH) return existsSync(process.env.CHORUS_ELECTRON_PATH) ? process.env.CHORUS_ELECTRON_PATH : undefined;
  const pathFile = join('node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join('node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

const ELECTRON = electronBinary();
const BUILT = existsSync('dist/electron/main.js') && existsSync('dist/electron/server-host.js') && existsSync('dist/renderer/index.html');
const SKIP_REASON = !ELECTRON
  ? 'no Electron binary here (set CHORUS_ELECTRON_PATH or run `npx install-electron`)'
  : !BUILT
    ? 'the app is not built (run `npm run build`)'
    : undefined;
if (SKIP_REASON) console.warn(`Skipping the Electron end-to-end suite: ${SKIP_REASON}`);

describe.skipIf(SKIP_REASON !== undefined)('the desktop app in Electron', () => {
  let app: ElectronApplication;
  let page: Page;
  let userData: string;

  beforeAll(async () => {
    userData = mkdtempSync(join(tmpdir(), 'chorus-electron-e2e-'));
    app = await _electron.launch({
      executablePath: ELECTRON!,
      args: ['.', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
      env: { ...process.env, CHORUS_USER_DATA_DIR: userData },
    });
    // Native dialogs (the firewall notice, quit prompt) would wait for a person: answer them here.
    await app.evaluate(({ dialog }) => {
      dialog.showMessageBox = (() => Promise.resolve({ response: 0, checkboxChecked: false })) as typeof dialog.showMessageBox;
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 60_000);

  afterAll(async () => {
    await app?.evaluate(async ({ app: electronApp }) => electronApp.exit(0)).catch(() => undefined);
    await app?.close().catch(() => undefined);
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  it('loads the renderer from app:// with the desktop API and no Node in the page', async () => {
    expect(page.url()).toBe('app://chorus/index.html');
    expect(await page.evaluate(() => (window as unknown as { chorusDesktop?: { kind: string } }).chorusDesktop?.kind)).toBe('chorus-desktop');
    expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (window as unknown as { process?: unknown }).process)).toBe('undefined');
  });

  it('hosts: starts the embedded server and reaches it over pinned TLS from the renderer', async () => {
    const info = await page.evaluate(() => (window as unknown as { chorusDesktop: { host: { start(): Promise<{ localUrl: string; fingerprint: string }> } } }).chorusDesktop.host.start());
    expect(info.localUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Cross-origin from app://chorus: the app API allows that origin (CORS), and the verifier accepts the pinned self-signed certificate.
    const server = await page.evaluate(async (url) => (await fetch(`${url}/app/api/server`)).json() as Promise<{ fingerprint?: string }>, info.localUrl);
    expect(server.fingerprint).toBe(info.fingerprint);
  }, 60_000);

  it('shares the screen through the picker round trip, and cancel rejects getDisplayMedia', async () => {
    const result = await page.evaluate(async () => {
      const api = (window as unknown as { chorusDesktop: { capture: { onPickerRequest(cb: (r: { requestId: string; sources: { id: string }[] }) => void): () => void; choose(id: string, c: unknown): Promise<void> } } }).chorusDesktop;
      let answer: 'choose' | 'cancel' = 'choose';
      const off = api.capture.onPickerRequest((request) => {
        void api.capture.choose(request.requestId, answer === 'choose' ? { sourceId: request.sources[0]!.id, audio: false } : null);
      });
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const tracks = stream.getVideoTracks().length;
      stream.getTracks().forEach((t) => t.stop());
      answer = 'cancel';
      const cancelled = await navigator.mediaDevices.getDisplayMedia({ video: true }).then(() => 'granted', (e: Error) => e.name);
      off();
      return { tracks, cancelled };
    });
    expect(result.tracks).toBe(1);
    expect(result.cancelled).toBe('NotAllowedError');
  }, 60_000);

  // The browser suite's core scenario (app-meeting.test.ts), with the desktop app as host:
  // hosting from Home starts the embedded server, and a browser on the LAN joins from the invite link.
  it('hosts a meeting from Home; a browser joins from the invite link; both see video, chat, and the guest leaves', async () => {
    await page.getByTestId('host-name').fill('Desktop sync');
    await page.getByTestId('host-button').click();
    await page.getByText('You are the host').waitFor({ timeout: 30_000 });
    await joinAs(page, 'Desktop host');
    await page.getByTestId('meeting-screen').waitFor({ timeout: 30_000 });
    await page.getByTestId('invite-button').click();
    const link = await page.getByTestId('invite-link').inputValue();
    expect(link).toMatch(/^https:\/\/[\d.]+:\d+\/join\/[a-z]{3}-[a-z]{4}-[a-z]{3}/);
    await page.keyboard.press('Escape');

    // A guest's browser on the LAN: the server's certificate is self-signed, so this test browser skips the check.
    const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'], headless: true });
    try {
      const guest = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      await guest.goto(link);
      await joinAs(guest, 'Guest');
      await guest.getByTestId('meeting-screen').waitFor({ timeout: 30_000 });
      await expectVideoOf(page, 'Guest');
      await expectVideoOf(guest, 'Desktop host');
      await chatRoundTrip(page, guest, 'Hello from the desktop', 'Desktop host');
      await chatRoundTrip(guest, page, 'Hello from the browser', 'Guest');
      await guest.getByTestId('leave-button').click();
      await guest.locator('[data-testid="end-screen"][data-reason="left"]').waitFor({ timeout: 20_000 });
      await page.waitForFunction(() => !document.querySelector('[data-testid="participant-tile"][data-name="Guest"]'), undefined, { timeout: 15_000 });
    } finally {
      await browser.close();
    }
  }, 150_000);
});
