import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killGroup, spawnServer } from '../helpers/server-process.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { expectVideoOf, joinAs } from './app-driver.js';
import { createMeeting, launchBrowser, NetnsLink, OwnBrowser, People, requireRendererBuild, screenshot } from './app-setup.js';

/**
 * Network trouble, produced for real and timed: a person's network process frozen
 * (SIGSTOP of their Chromium's network service: WebSocket, HTTP and WebRTC all stop
 * while the page runs on), a server killed with SIGKILL, and a quiet loopback that
 * must read "Good connection".
 */

/** The slow-link test needs root and iproute2 (CI runs as root on Debian). */
const netnsAvailable = await NetnsLink.available();

let t: TestServer;
let browser: Browser;
const people = new People(() => browser, () => t.server.url);
const own: OwnBrowser[] = [];

beforeAll(async () => {
  requireRendererBuild();
  t = await startTestServer({ iceHost: '127.0.0.1' });
  browser = await launchBrowser();
}, 60_000);
afterEach(async () => {
  await people.closeAll();
  for (const b of own.splice(0)) await b.close();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** Milliseconds from now until `check` holds in the page, polled every 100 ms; fails after `timeoutMs`. */
async function timeUntil(page: Page, check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

const attr = (page: Page, selector: string, name: string): Promise<string | null> => page.locator(selector).first().getAttribute(name, { timeout: 1_000 }).catch(() => null);

describe('network trouble in the meeting app', () => {
  it('a 10 s freeze of one person: they see "Reconnecting" within 3 s, the other sees their tile frozen within 3 s and then reconnecting, the header counts them apart, and both recover', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Freeze');
    const alice = await people.open(`/join/${meetingCode}#host=${hostKey}`);
    await joinAs(alice, 'Alice');
    const bobBrowser = await OwnBrowser.launch();
    own.push(bobBrowser);
    const bob = await people.open(`/join/${meetingCode}`, {}, bobBrowser.browser);
    await joinAs(bob, 'Bob');
    await expectVideoOf(alice, 'Bob');
    await expectVideoOf(bob, 'Alice');
    await alice.getByTestId('roster-button').click();
    const bobTile = '[data-testid="participant-tile"][data-name="Bob"]';
    const bobRow = '[data-testid="roster-row"][data-name="Bob"] [data-testid="connection"]';
    await expect.poll(() => attr(alice, bobRow, 'data-state'), { timeout: 10_000 }).toBe('good');
    expect(await attr(bob, '[data-testid="meeting-screen"]', 'data-connection')).toBe('good');

    bobBrowser.freezeNetwork();
    const frozenAt = Date.now();
    try {
      const [bobSees, aliceSees] = await Promise.all([
        timeUntil(bob, async () => (await attr(bob, '[data-testid="meeting-screen"]', 'data-connection')) === 'reconnecting' && (await bob.getByTestId('reconnecting-banner').count()) === 1, 8_000, 'Bob sees reconnecting'),
        timeUntil(alice, async () => (await attr(alice, bobTile, 'data-condition')) === 'frozen', 8_000, "Alice sees Bob's tile frozen"),
      ]);
      console.log(`freeze: Bob's own "Reconnecting…" after ${bobSees} ms; Alice sees his tile frozen after ${aliceSees} ms`);
      expect(bobSees).toBeLessThanOrEqual(3_000);
      expect(aliceSees).toBeLessThanOrEqual(3_000);
      // Screen readers are told at once.
      await expect.poll(() => bob.getByTestId('announce-assertive').textContent(), { timeout: 3_000 }).toContain('Connection problem');
      await screenshot(bob, 'network-freeze-self-reconnecting');
      await screenshot(alice, 'network-freeze-other-frozen');
      // The server stops hearing from Bob's app: his tile and roster entry say he is reconnecting, and the header counts him apart.
      const lost = await timeUntil(alice, async () => (await attr(alice, bobTile, 'data-condition')) === 'reconnecting', 9_000, "Alice sees Bob reconnecting");
      console.log(`freeze: Alice sees Bob "reconnecting" ${Date.now() - frozenAt} ms after the freeze (${lost} ms after "frozen")`);
      expect(await attr(alice, bobRow, 'data-state')).toBe('reconnecting');
      expect(await attr(alice, '[data-testid="people-count"]', 'data-away')).toBe('1');
      await screenshot(alice, 'network-freeze-other-reconnecting');
      const wait = 10_000 - (Date.now() - frozenAt);
      if (wait > 0) await alice.waitForTimeout(wait);
    } finally {
      bobBrowser.thawNetwork();
    }
    // Back: Bob's banner goes, Alice sees his video live again.
    await expect.poll(() => attr(bob, '[data-testid="meeting-screen"]', 'data-connection'), { timeout: 30_000 }).not.toBe('reconnecting');
    expect(await bob.getByTestId('reconnecting-banner').count()).toBe(0);
    await expect.poll(() => attr(alice, bobTile, 'data-condition'), { timeout: 30_000 }).toBe('live');
    await expect.poll(() => attr(alice, bobRow, 'data-state'), { timeout: 15_000 }).toBe('good');
    await expectVideoOf(alice, 'Bob');
    for (const page of [alice, bob]) expect(people.pageErrors(page)).toEqual([]);
  }, 180_000);

  it('a killed server: "Reconnecting" at once, "The meeting server stopped answering" with Try again and Leave within 15 s, and Leave works without the server', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'chorus-kill-'));
    const server = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--ice-host', '127.0.0.1'], {
      env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
    });
    try {
      const { meetingCode } = await createMeeting(server.url, 'Doomed');
      const page = await people.open(`${server.url}/join/${meetingCode}`);
      await joinAs(page, 'Kim');
      await page.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
      await expect.poll(() => attr(page, '[data-testid="meeting-screen"]', 'data-connection'), { timeout: 15_000 }).toBe('good');

      killGroup(server.proc, 'SIGKILL');
      await server.exited;
      let firstCause: string | null = null;
      const reconnecting = await timeUntil(
        page,
        async () => {
          if ((await page.getByTestId('reconnecting-banner').count()) !== 1) return false;
          firstCause = await attr(page, '[data-testid="meeting-screen"]', 'data-trouble');
          return true;
        },
        5_000,
        'reconnecting banner',
      );
      const explained = await timeUntil(page, async () => (await page.getByTestId('connection-trouble').count()) === 1, 20_000, 'server unreachable');
      console.log(`killed server: "Reconnecting…" after ${reconnecting} ms (${firstCause}), "stopped answering" after ${reconnecting + explained} ms`);
      // Told by the signaling socket's close itself, not by the SDK's backoff or the app's 5 s silence fallback.
      expect(firstCause).toBe('signaling');
      expect(reconnecting).toBeLessThanOrEqual(2_000);
      expect(reconnecting + explained).toBeLessThanOrEqual(15_000);
      expect(await attr(page, '[data-testid="connection-trouble"]', 'data-kind')).toBe('refused');
      expect(await page.getByTestId('connection-trouble').textContent()).toContain('stopped answering');
      // The header no longer claims a good connection.
      expect(await attr(page, '[data-testid="meeting-screen"]', 'data-connection')).toBe('reconnecting');
      await screenshot(page, 'server-unreachable');
      // Try again checks and, with the server still gone, keeps saying so.
      await page.getByTestId('trouble-retry').click();
      await page.getByTestId('trouble-retry').waitFor({ state: 'visible' });
      await expect.poll(() => page.getByTestId('trouble-retry').isEnabled(), { timeout: 10_000 }).toBe(true);
      expect(await page.getByTestId('connection-trouble').count()).toBe(1);
      // Leave does not wait for the SDK's reconnect timeout.
      const leaving = Date.now();
      await page.getByTestId('trouble-leave').click();
      await page.locator('[data-testid="end-screen"][data-reason="left"]').waitFor({ timeout: 5_000 });
      console.log(`killed server: Leave took ${Date.now() - leaving} ms`);
      expect(people.pageErrors(page)).toEqual([]);
    } finally {
      killGroup(server.proc, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('three people on loopback (audio): the header says "Good connection" in at least 28 of 30 one-second samples', async () => {
    const { meetingCode, hostKey } = await createMeeting(t.server.url, 'Quiet network');
    const pages: Page[] = [];
    for (const [i, name] of ['Ann', 'Ben', 'Cat'].entries()) {
      const page = await people.open(`/join/${meetingCode}${i === 0 ? `#host=${hostKey}` : ''}`);
      // Cameras off: on two shared cores, three decoding browsers starve each other and measure the machine, not the network.
      await joinAs(page, name, undefined, { camera: false });
      pages.push(page);
    }
    const [ann] = pages as [Page];
    for (const page of pages) await page.locator('[data-testid="meeting-screen"][data-phase="connected"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => ann.locator('[data-testid="participant-tile"]').count(), { timeout: 15_000 }).toBe(3);
    // The label is judged once the first seconds of media have settled (WARM_UP_MS).
    await ann.waitForTimeout(6_000);
    const samples: string[] = [];
    for (let i = 0; i < 30; i++) {
      samples.push((await attr(ann, '[data-testid="meeting-screen"]', 'data-connection')) ?? '');
      await ann.waitForTimeout(1_000);
    }
    const good = samples.filter((s) => s === 'good').length;
    console.log(`loopback, 3 people: "Good connection" in ${good} of 30 samples (${JSON.stringify(samples.filter((s) => s !== 'good'))} otherwise); ${await ann.getByTestId('network-quality').getAttribute('title')}`);
    expect(good).toBeGreaterThanOrEqual(28);
  }, 150_000);

  // Root and iproute2 make the slow link; where they are missing (not in CI, which runs as root), the test says so and is skipped.
  it.skipIf(!netnsAvailable)('a slow link (a network namespace at 96 kbit/s): the person sees "Poor connection" and others\' cameras paused to save bandwidth; the others see their tile and roster entry as poor; all clears when the link is fast again', async () => {
    const link = new NetnsLink(`capp${process.pid % 100000}`, 200 + (process.pid % 50));
    const dir = await mkdtemp(join(tmpdir(), 'chorus-netns-'));
    let server: TestServer | undefined;
    try {
      await link.start('none');
      // Non-loopback: the server uses TLS, and listens and gathers ICE on the link's address.
      server = await startTestServer({ host: link.hostAddress, iceHost: link.hostAddress });
      const url = server.server.url;
      const { meetingCode, hostKey } = await createMeeting(url, 'Slow link', {}, server.server.tls?.cert);
      const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
      const alice = await aliceContext.newPage();
      await alice.goto(`${url}/join/${meetingCode}#host=${hostKey}`);
      await joinAs(alice, 'Alice');
      const bobBrowser = await OwnBrowser.launch(link.chromiumWrapper(dir), ['--ignore-certificate-errors']);
      own.push(bobBrowser);
      const bobContext = await bobBrowser.browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
      const bob = await bobContext.newPage();
      await bob.goto(`${url}/join/${meetingCode}`);
      await joinAs(bob, 'Bob');
      try {
        await expectVideoOf(alice, 'Bob');
        await expectVideoOf(bob, 'Alice');
        await expect.poll(() => attr(bob, '[data-testid="meeting-screen"]', 'data-connection'), { timeout: 20_000 }).toBe('good');
        await alice.getByTestId('roster-button').click();

        await link.rate('96kbit');
        const slowAt = Date.now();
        // Bob's header, second by second, with what it blamed when it said reconnecting.
        const trace: string[] = [];
        const header = async (): Promise<string | null> => {
          const label = await attr(bob, '[data-testid="meeting-screen"]', 'data-connection');
          trace.push(`${((Date.now() - slowAt) / 1000).toFixed(1)}s ${label}${label === 'reconnecting' ? ` (${await attr(bob, '[data-testid="meeting-screen"]', 'data-trouble')})` : ''}`);
          return label;
        };
        try {
          await expect.poll(header, { timeout: 40_000, interval: 1000 }).toBe('poor');
        } finally {
          console.log(`slow link, Bob's header: ${trace.join(', ')}`);
        }
        // Audio kept arriving: the app's own requests being slow on the congested link never made it "Reconnecting".
        expect(trace.filter((s) => s.includes('(server)'))).toEqual([]);
        console.log(`slow link: Bob's header "Poor connection" after ${Date.now() - slowAt} ms (${await bob.getByTestId('network-quality').getAttribute('title')})`);
        // Bob's app pauses Alice's camera for him; his tile of her says why.
        await expect.poll(() => attr(bob, '[data-testid="participant-tile"][data-name="Alice"]', 'data-condition'), { timeout: 10_000 }).toBe('paused');
        await screenshot(bob, 'network-poor-self-paused');
        // Alice learns Bob's own verdict through the server: poor (or lost, when even that cannot get through).
        await expect.poll(() => attr(alice, '[data-testid="roster-row"][data-name="Bob"] [data-testid="connection"]', 'data-state'), { timeout: 20_000 }).toMatch(/^(poor|reconnecting)$/);
        expect(await attr(alice, '[data-testid="participant-tile"][data-name="Bob"]', 'data-condition')).toMatch(/^(poor|frozen|reconnecting)$/);
        await screenshot(alice, 'network-poor-other');

        await link.rate('none');
        const fastAt = Date.now();
        await expect.poll(() => attr(bob, '[data-testid="meeting-screen"]', 'data-connection'), { timeout: 60_000, interval: 250 }).toBe('good');
        console.log(`slow link: back to "Good connection" ${Date.now() - fastAt} ms after the limit was lifted`);
        await expect.poll(() => attr(bob, '[data-testid="participant-tile"][data-name="Alice"]', 'data-condition'), { timeout: 20_000 }).toBe('live');
        await expect.poll(() => attr(alice, '[data-testid="roster-row"][data-name="Bob"] [data-testid="connection"]', 'data-state'), { timeout: 20_000 }).toBe('good');
      } finally {
        await aliceContext.close().catch(() => undefined);
        await bobContext.close().catch(() => undefined);
      }
    } finally {
      for (const b of own.splice(0)) await b.close();
      await server?.close();
      await link.down();
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
