import type { Page } from 'playwright-core';

/**
 * Driving the meeting app through its UI, shared by the browser suite
 * (app-meeting.test.ts) and the Electron suite (desktop-electron.test.ts), so
 * both exercise the same screens the same way.
 */

/** Fills the device-check form and presses Join; `camera: false` joins with the camera off (lighter on a busy machine). */
export async function joinAs(page: Page, name: string, passcode?: string, options: { camera?: boolean } = {}): Promise<void> {
  await page.getByTestId('display-name').fill(name);
  if (passcode !== undefined) await page.getByTestId('passcode').fill(passcode);
  if (options.camera === false) {
    const toggle = page.getByRole('button', { name: 'Join with camera off' });
    if ((await toggle.count()) > 0) await toggle.click();
  }
  await page.getByTestId('join-button').click();
}

/** The tile of `name` shows decoding video: frames advance in its <video>. */
export async function expectVideoOf(page: Page, name: string): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const video = document.querySelector<HTMLVideoElement>(`[data-testid="participant-tile"][data-name="${n}"] video`);
      return Boolean(video && video.videoWidth >= 160 && video.getVideoPlaybackQuality().totalVideoFrames > 10);
    },
    name,
    { timeout: 45_000, polling: 250 },
  );
}

/** Sends a chat message and waits until `to` shows it with the sender's name. */
export async function chatRoundTrip(from: Page, to: Page, text: string, senderName: string): Promise<void> {
  if ((await from.getByTestId('chat-input').count()) === 0) await from.getByTestId('chat-button').click();
  await from.getByTestId('chat-input').fill(text);
  await from.getByTestId('chat-input').press('Enter');
  if ((await to.getByTestId('chat-input').count()) === 0) await to.getByTestId('chat-button').click();
  const received = to.locator('[data-testid="chat-message"]', { hasText: text });
  await received.waitFor({ timeout: 15_000 });
  const shown = await received.textContent();
  if (!shown?.includes(senderName)) throw new Error(`chat message shown without its sender ${senderName}: ${shown}`);
}
