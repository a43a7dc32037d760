import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { chatRoundTrip, expectVideoOf, joinAs } from './app-driver.js';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './harness/browser.js';

/**
 * The real meeting app, as people use it: the production renderer build
 * (dist/renderer, made by `npm run build:renderer`, which `npm test` runs first)
 * served by the real server, driven through its UI in real Chromium with fake
 * camera and microphone.
 */
const RENDERER_INDEX = fileURLToPath(new URL('../../dist/renderer/index.html', import.meta.url));
/** Screenshots of the main screens, kept as test artifacts (docs/screenshots holds a reviewed copy). */
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const SCREENSHOTS = `${RESULTS}screenshots/`;

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

let t: TestServer;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  if (!existsSync(RENDERER_INDEX)) throw new Error(`No renderer build at ${RENDERER_INDEX}: run \`npm run build:renderer\` first`);
  t = await startTestServer({ iceHost: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS, headless: true });
}, 60_000);
// Every page of a test closes with it, passed or failed: a failed test's pages would otherwise
// keep their cameras and video decoders running and starve the tests after it.
afterEach(async (context) => {
  await Promise.all(pages.splice(0).map((page) => page.context().close().catch(() => undefined)));
  // A failed test leaves the server's side of the story: everything it logged at info and above.
  if (context.task.result?.state === 'fail') {
    mkdirSync(RESULTS, { recursive: true });
    const file = `${RESULTS}app-meeting-failure-${Date.now()}.log`;
    writeFileSync(file, t.logs.filter((line) => !line.includes('"level":"debug"')).join('\n'));
    const notable = t.logs.filter((line) => /"level":"(warn|error)"|_closed|_dropped|_refused|reconnect/.test(line)).slice(-40);
    console.error(`[app-meeting] the server's log of the failed test: ${file}; its warnings and closes:\n${notable.join('\n')}`);
  }
  t.logs.length = 0;
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function createMeeting(name: string, passcode?: string): Promise<{ meetingCode: string; hostKey: string }> {
  const res = await fetch(`${t.server.url}/app/api/meetings`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}` },
    body: JSON.stringify({ name, ...(passcode ? { passcode } : {}) }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { meetingCode: string; hostKey: string };
}

/** A fresh browser context per person: separate storage, as on separate machines. */
async function openPage(path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  (page as Page & { errors?: string[] }).errors = errors;
  pages.push(page);
  await page.goto(`${t.server.url}${path}`);
  return page;
}

function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

describe('the meeting app in Chromium', () => {
  it('two people join through the UI, see and hear each other, switch microphone, mute, chat, leave; a wrong passcode is refused', async () => {
    const { meetingCode, hostKey } = await createMeeting('E2E sync', 'sesame42');

    // The host opens the host link (the key rides in the fragment) and joins without the passcode.
    const alice = await openPage(`/join/${meetingCode}#host=${hostKey}`);
    await expect.poll(() => alice.getByRole('heading', { name: 'E2E sync' }).count(), { timeout: 15_000 }).toBe(1);
    await alice.getByTestId('camera-preview').waitFor({ state: 'visible' });
    await alice.getByTestId('display-name').fill('Alice');
    await expect.poll(() => alice.getByTestId('mic-meter').getAttribute('aria-valuenow').then(Number), { timeout: 10_000 }).toBeGreaterThan(0);
    await screenshot(alice, 'device-check');
    await joinAs(alice, 'Alice');
    await alice.getByTestId('meeting-screen').waitFor();

    // A guest with a wrong passcode gets a clear refusal and stays on the device check.
    const bob = await openPage(`/join/${meetingCode}`);
    await joinAs(bob, 'Bob', 'wrong-one');
    await bob.getByTestId('wrong-passcode').waitFor({ timeout: 15_000 });
    expect(await bob.getByTestId('wrong-passcode').textContent()).toContain('Wrong passcode');
    expect(await bob.getByTestId('meeting-screen').count()).toBe(0);

    // With the right passcode Bob joins; each sees the other's name and live video.
    await bob.getByTestId('passcode').fill('sesame42');
    await bob.getByTestId('join-button').click();
    await bob.getByTestId('meeting-screen').waitFor();
    await expectVideoOf(alice, 'Bob');
    await expectVideoOf(bob, 'Alice');
    // And their own self view.
    await expectVideoOf(alice, 'Alice');
    expect(await alice.locator('[data-testid="participant-tile"]').count()).toBe(2);

    // Bob switches microphone mid-call; his (fake, beeping) voice keeps reaching Alice: she sees him speaking.
    await alice.getByTestId('roster-button').click();
    const bobRow = alice.locator('[data-testid="roster-row"][data-name="Bob"]');
    await bob.getByRole('button', { name: 'Audio and video settings' }).click();
    const mics = bob.getByTestId('device-audioinput');
    const options = await mics.locator('option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    expect(options.length).toBeGreaterThan(1);
    const other = options.find((v) => v !== 'default' && v !== '')!;
    await mics.selectOption(other);
    await bob.keyboard.press('Escape');
    expect(await bob.locator('.toast-warning').count()).toBe(0);
    await expect.poll(() => bobRow.getAttribute('data-speaking'), { timeout: 15_000, interval: 100 }).toBe('true');

    // Bob mutes (keyboard shortcut); Alice's roster shows it, from the server's mute state.
    await expect.poll(() => bobRow.getAttribute('data-muted'), { timeout: 10_000 }).toBe('false');
    await bob.locator('body').click();
    await bob.keyboard.press('Control+d');
    await expect.poll(() => bob.getByTestId('mute-button').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => bobRow.getAttribute('data-muted'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => alice.locator('[data-testid="participant-tile"][data-name="Bob"] [data-testid="tile-muted"]').count()).toBe(1);

    // Chat both ways; the closed panel shows an unread badge.
    await alice.getByTestId('chat-button').click();
    await alice.getByTestId('chat-input').fill('Hello from Alice');
    await alice.getByTestId('chat-input').press('Enter');
    await expect.poll(() => bob.getByTestId('unread-badge').textContent(), { timeout: 10_000 }).toBe('1');
    await bob.getByTestId('chat-button').click();
    const received = bob.locator('[data-testid="chat-message"]', { hasText: 'Hello from Alice' });
    await received.waitFor();
    expect(await received.textContent()).toContain('Alice');
    await bob.getByTestId('chat-input').fill('Hi Alice, Bob here');
    await bob.getByTestId('chat-send').click();
    await alice.locator('[data-testid="chat-message"]', { hasText: 'Hi Alice, Bob here' }).waitFor({ timeout: 10_000 });
    await screenshot(bob, 'chat');
    // An oversized message is shown as failed, not dropped.
    await bob.getByTestId('chat-input').fill('x'.repeat(3000));
    await bob.getByTestId('chat-send').click();
    await bob.locator('[data-testid="chat-message"][data-status="failed"]').waitFor();
    expect(await bob.locator('[data-testid="chat-message"][data-status="failed"]').textContent()).toContain('Too long');

    // A reaction floats up on the other side, with the sender's name.
    await alice.getByRole('button', { name: 'Send a reaction' }).click();
    await alice.getByRole('menuitem', { name: 'React 🎉' }).click();
    await bob.getByLabel('Alice reacted 🎉').waitFor({ timeout: 10_000 });

    // Bob leaves and sees the "left" screen; he disappears from Alice's meeting.
    await bob.getByTestId('leave-button').click();
    await bob.locator('[data-testid="end-screen"][data-reason="left"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => alice.locator('[data-testid="participant-tile"][data-name="Bob"]').count(), { timeout: 10_000 }).toBe(0);
    // Rejoin leads back to the device check, with his name and choices remembered.
    await bob.getByRole('button', { name: 'Rejoin' }).click();
    await bob.getByTestId('prejoin-screen').waitFor();
    expect(await bob.getByTestId('display-name').inputValue()).toBe('Bob');

    for (const page of [alice, bob]) expect(pageErrors(page)).toEqual([]);
  }, 150_000);

  it('host: four people in a grid, screen share on stage, late joiner gets chat history, remove shows "removed", end for all shows "ended"', async () => {
    const { meetingCode, hostKey } = await createMeeting('Team review');
    const home = await openPage('/');
    await home.getByTestId('home-screen').waitFor();
    await home.locator('[data-testid="nearby-meetings"]', { hasText: 'Team review' }).waitFor({ timeout: 15_000 });
    await screenshot(home, 'home');
    await home.context().close();

    const host = await openPage(`/join/${meetingCode}#host=${hostKey}`);
    await joinAs(host, 'Hana');
    await host.getByTestId('meeting-screen').waitFor();
    await host.getByTestId('chat-button').click();
    await host.getByTestId('chat-input').fill('Agenda: demo first');
    await host.getByTestId('chat-input').press('Enter');

    const guests: Page[] = [];
    for (const name of ['Gus', 'Ida', 'Jo']) {
      const page = await openPage(`/join/${meetingCode}`);
      await joinAs(page, name);
      await page.getByTestId('meeting-screen').waitFor();
      guests.push(page);
    }
    const [gus, ida, jo] = guests as [Page, Page, Page];
    // Late joiners get the chat history the server keeps for the message's lifetime.
    await jo.getByTestId('chat-button').click();
    await jo.locator('[data-testid="chat-message"]', { hasText: 'Agenda: demo first' }).waitFor({ timeout: 15_000 });
    // And the late joiner's own message reaches the others with her name.
    await chatRoundTrip(jo, gus, 'Jo here, hi all', 'Jo');
    await gus.getByTestId('chat-button').click();
    await jo.getByTestId('chat-button').click();
    await host.getByTestId('chat-button').click();
    for (const name of ['Gus', 'Ida', 'Jo']) await expectVideoOf(host, name);
    expect(await host.locator('[data-testid="participant-tile"]').count()).toBe(4);
    expect(await host.getByTestId('video-grid').getAttribute('data-columns')).toBe('2');
    await screenshot(host, 'grid-4');

    // The host mutes Gus from the roster: his own client follows, and everyone sees him muted.
    await host.getByTestId('roster-button').click();
    await expect.poll(() => gus.getByTestId('meeting-screen').getAttribute('data-phase')).toBe('connected');
    expect(await gus.getByTestId('mute-button').getAttribute('aria-pressed')).toBe('false');
    await host.getByRole('button', { name: 'Mute Gus' }).click();
    await expect.poll(() => gus.getByTestId('mute-button').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');
    await expect.poll(() => jo.locator('[data-testid="participant-tile"][data-name="Gus"] [data-testid="tile-muted"]').count(), { timeout: 10_000 }).toBe(1);

    // Gus shares his screen; it takes the stage for the others, with a filmstrip.
    await gus.getByTestId('share-button').click();
    const content = ida.getByTestId('content-tile');
    // A share is a second signaling session and peer connection: slow on a machine others load.
    await content.waitFor({ timeout: 40_000 });
    await ida.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="content-tile"] video')?.videoWidth ?? 0) > 0, undefined, { timeout: 20_000 });
    expect(await ida.locator('.filmstrip [data-testid="participant-tile"]').count()).toBe(4);
    await screenshot(ida, 'content-share');
    await gus.getByTestId('share-button').click();
    await ida.getByTestId('content-tile').waitFor({ state: 'detached', timeout: 15_000 });

    // The host removes Ida: she sees "removed", the others lose her tile.
    await host.locator('[data-testid="roster-row"][data-name="Ida"] [data-testid="remove-attendee"]').click();
    await host.getByTestId('confirm-ok').click();
    await ida.locator('[data-testid="end-screen"][data-reason="removed"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => gus.locator('[data-testid="participant-tile"][data-name="Ida"]').count(), { timeout: 10_000 }).toBe(0);

    // The host ends the meeting for everyone.
    await host.getByTestId('leave-button').click();
    await host.getByTestId('end-for-all').click();
    for (const page of [gus, jo]) await page.locator('[data-testid="end-screen"][data-reason="ended"]').waitFor({ timeout: 15_000 });
    await host.locator('[data-testid="end-screen"][data-reason="ended"]').waitFor({ timeout: 15_000 });
    // The code is gone with the meeting.
    const again = await openPage(`/join/${meetingCode}`);
    await again.locator('[data-testid="unavailable-screen"][data-failure="NotFoundException"]').waitFor({ timeout: 10_000 });
  }, 300_000);

  it('an unreachable server gets its own screen', async () => {
    const page = await openPage('/');
    await page.getByTestId('meeting-code-input').fill('abc-defg-hij');
    await page.route('**/app/api/**', (route) => route.abort('connectionrefused'));
    await page.getByTestId('join-continue').click();
    await page.locator('[data-testid="unavailable-screen"][data-failure="Unreachable"]').waitFor({ timeout: 10_000 });
  });

  it('on a server that allows web hosting, a browser hosts a meeting and its invite dialog shows the link and a QR code', async () => {
    const open = await startTestServer({ iceHost: '127.0.0.1', allowWebHosting: true });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${open.server.url}/`);
      await page.getByTestId('host-name').fill('Browser-hosted');
      await page.getByTestId('host-button').click();
      await page.getByText('You are the host').waitFor({ timeout: 10_000 });
      await joinAs(page, 'Host');
      await page.getByTestId('meeting-screen').waitFor();
      await page.getByTestId('invite-button').click();
      const link = await page.getByTestId('invite-link').inputValue();
      expect(link).toMatch(new RegExp(`^${open.server.url}/join/[a-z]{3}-[a-z]{4}-[a-z]{3}$`));
      expect(await page.locator('[data-testid="invite-qr"] path').getAttribute('d')).toMatch(/^M\d/);
      await screenshot(page, 'invite');
      await page.keyboard.press('Escape');
      await page.getByTestId('invite-dialog').waitFor({ state: 'detached' });
      // Hosting stays closed where the operator did not open it.
      const closed = await openPage('/');
      await closed.getByText('--allow-web-hosting').waitFor();
      expect(await closed.getByTestId('host-button').count()).toBe(0);
      await context.close();
    } finally {
      await open.close();
    }
  }, 60_000);

  it('shows "reconnecting" while the SDK reconnects after the server drops its signaling, then carries on', async () => {
    const { meetingCode, hostKey } = await createMeeting('Flaky network');
    const page = await openPage(`/join/${meetingCode}#host=${hostKey}`);
    await joinAs(page, 'Rita');
    await page.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 20_000 });
    const meetingId = (await t.server.service.listMeetings()).find((m) => m.ExternalMeetingId === `chorus-app-${meetingCode}`)!.MeetingId;
    const room = t.server.signaling.room(meetingId)!;
    const selfId = await page.locator('[data-testid="participant-tile"][data-name="Rita"]').getAttribute('data-attendee-id');
    // Every phase the meeting screen passes through, and whether the banner showed, however briefly:
    // on loopback the SDK reconnects within a frame or two.
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="meeting-screen"]')!;
      const seen: string[] = [];
      (window as unknown as { phases: string[] }).phases = seen;
      new MutationObserver(() => {
        const phase = el.getAttribute('data-phase') ?? '';
        if (seen.at(-1) !== phase) seen.push(phase);
        if (el.querySelector('[data-testid="reconnecting-banner"]') && !seen.includes('banner')) seen.push('banner');
      }).observe(el, { attributes: true, childList: true, subtree: true });
    });
    // 4500-4599 is the close code range the SDK answers by reconnecting.
    room.participant(selfId!)!.session.close(4500, 'test: transient server error');
    await expect.poll(() => page.evaluate(() => (window as unknown as { phases: string[] }).phases), { timeout: 15_000 }).toEqual(expect.arrayContaining(['reconnecting', 'banner', 'connected']));
    await page.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    // The banner also stands for stalled media, which clears once frames flow again after the rejoin.
    await expect.poll(() => page.getByTestId('reconnecting-banner').count(), { timeout: 15_000 }).toBe(0);
    await expectVideoOf(page, 'Rita');
  }, 60_000);
});
