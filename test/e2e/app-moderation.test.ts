import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { joinAs } from './app-driver.js';
import { createMeeting, launchBrowser, People, requireRendererBuild, screenshot } from './app-setup.js';

/**
 * People and moderation in the meeting app, in real Chromium against the real
 * server: raised hands, notices, the timer, the lobby, mute locks, co-hosts,
 * removal as a ban, and a reload that does not ask for the passcode again.
 * Cameras stay off (two shared cores); none of this needs video.
 */

let t: TestServer;
let browser: Browser;
const people = new People(() => browser, () => t.server.url);

beforeAll(async () => {
  requireRendererBuild();
  t = await startTestServer({ iceHost: '127.0.0.1' });
  browser = await launchBrowser();
}, 60_000);
afterEach(async () => {
  await people.closeAll();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function join(path: string, name: string, passcode?: string): Promise<Page> {
  const page = await people.open(path);
  await joinAs(page, name, passcode, { camera: false });
  await page.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
  return page;
}

const roster = (page: Page, name: string) => page.locator(`[data-testid="roster-row"][data-name="${name}"]`);
const handNames = (page: Page) => page.locator('[data-testid="hand-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
const announced = (page: Page) => page.evaluate(() => `${document.querySelector('[data-testid="announce-polite"]')?.textContent ?? ''} | ${document.querySelector('[data-testid="announce-assertive"]')?.textContent ?? ''}`);
const toastTexts = (page: Page) => page.locator('[data-testid="toast"] > span').allTextContents();

describe('people and moderation', () => {
  it('raised hands queue in order for everyone, the host lowers one; joins and leaves are announced (with an optional sound); the meeting timer runs', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Hands');
    // Gus waits on the join screen, to arrive within seconds of Hana: still news to her.
    const gus = await people.open(`/join/${meetingCode}`);
    const hana = await join(`/join/${meetingCode}#host=${hostKey}`, 'Hana');
    const hanaConnectedAt = Date.now();
    // Hana turns the notification sound on.
    await hana.getByRole('button', { name: 'Audio and video settings' }).click();
    await hana.getByTestId('notify-sound').check();
    await hana.keyboard.press('Escape');
    const tonesBefore = await hana.evaluate(() => (window as { chorusTonesPlayed?: number }).chorusTonesPlayed ?? 0);
    // Watched from before Gus clicks Join: a notice shows for 6 s, and Gus's own screen may take longer to connect.
    const gusNoticed = expect.poll(() => toastTexts(hana), { timeout: 30_000, interval: 100 }).toContain('Gus joined');
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gusNoticed;
    console.log(`"Gus joined" shown to Hana ${Date.now() - hanaConnectedAt} ms after she connected`);
    await gus.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    expect(await hana.evaluate(() => (window as { chorusTonesPlayed?: number }).chorusTonesPlayed ?? 0)).toBeGreaterThan(tonesBefore);
    const ida = await join(`/join/${meetingCode}`, 'Ida');

    // Gus raises his hand, then Ida: everyone sees the same queue, in that order.
    await gus.getByTestId('hand-button').click();
    await expect.poll(() => gus.getByTestId('hand-button').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');
    await ida.getByTestId('hand-button').click();
    for (const page of [hana, gus, ida]) {
      if ((await page.getByTestId('roster-panel').count()) === 0) await page.getByTestId('roster-button').click();
      await expect.poll(() => handNames(page), { timeout: 10_000 }).toEqual(['Gus', 'Ida']);
    }
    expect(await hana.locator('[data-testid="participant-tile"][data-name="Gus"]').getAttribute('data-hand')).toBe('1');
    expect(await hana.locator('[data-testid="participant-tile"][data-name="Ida"]').getAttribute('data-hand')).toBe('2');
    await expect.poll(() => announced(hana), { timeout: 5_000 }).toContain('Ida raised a hand, number 2 in line');
    // A guest cannot lower someone else's hand: only their own has a Lower button.
    expect(await ida.locator('[data-testid="hand-row"][data-name="Gus"] [data-testid="lower-hand"]').count()).toBe(0);
    await screenshot(hana, 'hands-queue');

    // The host lowers Gus's hand; Gus is told.
    await hana.locator('[data-testid="hand-row"][data-name="Gus"] [data-testid="lower-hand"]').click();
    await expect.poll(() => handNames(ida), { timeout: 10_000 }).toEqual(['Ida']);
    await expect.poll(() => toastTexts(gus), { timeout: 10_000 }).toContain('A host lowered your hand');
    expect(await gus.getByTestId('hand-button').getAttribute('aria-pressed')).toBe('false');

    // The timer counts up.
    const first = await hana.getByTestId('meeting-timer').textContent();
    expect(first).toMatch(/\d\d:\d\d/);
    await expect.poll(() => hana.getByTestId('meeting-timer').textContent(), { timeout: 5_000 }).not.toBe(first);

    // Ida leaves: Hana is told, in a notice and to her screen reader.
    await ida.getByTestId('leave-button').click();
    await expect.poll(() => toastTexts(hana), { timeout: 15_000 }).toContain('Ida left');
    await expect.poll(() => handNames(hana), { timeout: 10_000 }).toEqual([]);
    for (const page of [hana, gus]) expect(people.pageErrors(page)).toEqual([]);
  }, 180_000);

  it('a lobby: guests wait and see that they wait; the host sees who waits and admits or denies; an admitted guest comes back without waiting', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Lobby', { lobby: true });
    const hana = await join(`/join/${meetingCode}#host=${hostKey}`, 'Hana');
    const gus = await people.open(`/join/${meetingCode}`);
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gus.getByTestId('lobby-screen').waitFor({ timeout: 15_000 });
    expect(await gus.getByTestId('lobby-screen').textContent()).toContain('Waiting to be let in');
    await screenshot(gus, 'lobby-waiting');
    // The host is told at once (a notice lasts 6 s, so look now).
    await expect.poll(() => toastTexts(hana), { timeout: 10_000 }).toContain('Gus is waiting in the lobby');
    const ida = await people.open(`/join/${meetingCode}`);
    await joinAs(ida, 'Ida', undefined, { camera: false });
    await ida.getByTestId('lobby-screen').waitFor({ timeout: 15_000 });

    // The host sees a badge and the list.
    await expect.poll(() => hana.getByTestId('waiting-badge').textContent(), { timeout: 10_000 }).toBe('2');
    await hana.getByTestId('roster-button').click();
    await expect.poll(() => hana.locator('[data-testid="waiting-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name'))), { timeout: 10_000 }).toEqual(['Gus', 'Ida']);
    await screenshot(hana, 'lobby-host');
    await hana.locator('[data-testid="waiting-row"][data-name="Gus"] [data-testid="admit"]').click();
    await gus.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    await roster(hana, 'Gus').waitFor({ timeout: 15_000 });
    await hana.locator('[data-testid="waiting-row"][data-name="Ida"] [data-testid="deny"]').click();
    await ida.locator('[data-testid="unavailable-screen"][data-reason="denied"]').waitFor({ timeout: 15_000 });
    expect(await ida.getByTestId('unavailable-screen').textContent()).toContain('You were not let in');
    await screenshot(ida, 'lobby-denied');

    // Gus reloads: admitted once, he goes straight back in.
    await gus.reload();
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gus.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    expect(await gus.getByTestId('lobby-screen').count()).toBe(0);
    for (const page of [hana, gus, ida]) expect(people.pageErrors(page)).toEqual([]);
  }, 180_000);

  it('mute locks: a muted guest cannot unmute and asks instead; the host allows; mute all; a co-host moderates but is never locked', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Locks');
    const hana = await join(`/join/${meetingCode}#host=${hostKey}`, 'Hana');
    const gus = await join(`/join/${meetingCode}`, 'Gus');
    const ida = await join(`/join/${meetingCode}`, 'Ida');
    await hana.getByTestId('roster-button').click();
    await roster(hana, 'Gus').waitFor({ timeout: 15_000 });

    await hana.getByRole('button', { name: 'Mute Gus' }).click();
    await expect.poll(() => gus.getByTestId('mute-button').getAttribute('data-locked'), { timeout: 10_000 }).toBe('true');
    expect(await gus.getByTestId('mute-button').textContent()).toContain('Ask to unmute');
    // The shortcut does not unmute a locked microphone: it asks.
    await gus.locator('body').click();
    await gus.keyboard.press('Control+d');
    await expect.poll(() => gus.getByTestId('mute-button').getAttribute('aria-label'), { timeout: 10_000 }).toBe('You asked the host to let you unmute');
    expect(await gus.getByTestId('mute-button').getAttribute('aria-pressed')).toBe('true');
    await screenshot(gus, 'mute-locked-asked');
    // The host sees the request and allows it.
    await hana.locator('[data-testid="unmute-request"][data-name="Gus"]').waitFor({ timeout: 10_000 });
    await screenshot(hana, 'mute-request-host');
    await hana.locator('[data-testid="unmute-request"][data-name="Gus"] [data-testid="allow-unmute-request"]').click();
    await expect.poll(() => toastTexts(gus), { timeout: 10_000 }).toContain('The host allowed you to unmute');
    await gus.getByTestId('mute-button').click();
    await expect.poll(() => gus.getByTestId('mute-button').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('false');

    // Mute all: both guests locked, the host is not.
    await hana.getByTestId('mute-all').click();
    for (const page of [gus, ida]) await expect.poll(() => page.getByTestId('mute-button').getAttribute('data-locked'), { timeout: 10_000 }).toBe('true');
    expect(await hana.getByTestId('mute-button').getAttribute('data-locked')).toBe(null);
    await expect.poll(() => roster(hana, 'Ida').getAttribute('data-locked'), { timeout: 10_000 }).toBe('true');

    // Ida becomes co-host: her lock goes, she sees the moderator tools and allows Gus to unmute.
    await hana.getByRole('button', { name: 'Make Ida co-host' }).click();
    await expect.poll(() => toastTexts(ida), { timeout: 10_000 }).toContain('You are now a co-host');
    await expect.poll(() => ida.getByTestId('mute-button').getAttribute('data-locked'), { timeout: 10_000 }).toBe(null);
    if ((await ida.getByTestId('roster-panel').count()) === 0) await ida.getByTestId('roster-button').click();
    await ida.getByTestId('mute-all').waitFor({ timeout: 10_000 });
    expect(await roster(hana, 'Ida').getAttribute('data-role')).toBe('cohost');
    // A co-host has no power over the host.
    expect(await ida.getByRole('button', { name: 'Remove Hana' }).count()).toBe(0);
    await ida.getByRole('button', { name: 'Allow Gus to unmute' }).click();
    await expect.poll(() => gus.getByTestId('mute-button').getAttribute('data-locked'), { timeout: 10_000 }).toBe(null);
    await screenshot(ida, 'cohost-view');
    for (const page of [hana, gus, ida]) expect(people.pageErrors(page)).toEqual([]);
  }, 180_000);

  it('remove asks first and bans until the host lifts it; a reload or rejoin does not ask for the passcode again (tab session only)', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Door', { passcode: 'open-sesame' });
    const hana = await join(`/join/${meetingCode}#host=${hostKey}`, 'Hana');
    const gus = await join(`/join/${meetingCode}`, 'Gus', 'open-sesame');

    // Reload: no passcode field, and it is in sessionStorage, never localStorage.
    await gus.reload();
    await gus.getByTestId('passcode-remembered').waitFor({ timeout: 15_000 });
    expect(await gus.getByTestId('passcode').count()).toBe(0);
    const storage = await gus.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));
    expect(storage.session).toContain('open-sesame');
    expect(storage.local).not.toContain('open-sesame');
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gus.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    // The host's reload keeps the host key (the link's #host= fragment is long gone from the address bar).
    await hana.reload();
    await hana.getByText('You are the host').waitFor({ timeout: 15_000 });
    await joinAs(hana, 'Hana', undefined, { camera: false });
    await hana.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });

    await hana.getByTestId('roster-button').click();
    await roster(hana, 'Gus').waitFor({ timeout: 15_000 });
    // Remove asks first; Cancel keeps Gus.
    await roster(hana, 'Gus').getByTestId('remove-attendee').click();
    await hana.getByTestId('confirm-dialog').waitFor();
    expect(await hana.getByTestId('confirm-dialog').textContent()).toContain('Remove Gus?');
    await screenshot(hana, 'remove-confirm');
    await hana.getByTestId('confirm-cancel').click();
    expect(await gus.getByTestId('meeting-screen').count()).toBe(1);
    await roster(hana, 'Gus').getByTestId('remove-attendee').click();
    await hana.getByTestId('confirm-ok').click();
    await gus.locator('[data-testid="end-screen"][data-reason="removed"]').waitFor({ timeout: 15_000 });

    // Banned: coming back through the invite link, with the right passcode, is refused.
    await gus.goto(`${t.server.url}/join/${meetingCode}`);
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gus.locator('[data-testid="unavailable-screen"][data-reason="banned"]').waitFor({ timeout: 15_000 });
    expect(await gus.getByTestId('unavailable-screen').textContent()).toContain('You cannot rejoin this meeting');
    await screenshot(gus, 'banned');
    // The host lifts the ban; Gus gets in.
    await hana.locator('[data-testid="banned-row"][data-name="Gus"] [data-testid="lift-ban"]').click();
    await hana.getByTestId('banned-list').waitFor({ state: 'detached', timeout: 10_000 });
    await gus.goto(`${t.server.url}/join/${meetingCode}`);
    await joinAs(gus, 'Gus', undefined, { camera: false });
    await gus.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    for (const page of [hana, gus]) expect(people.pageErrors(page)).toEqual([]);
  }, 180_000);
});
