import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { launchHarness, type HarnessBrowser } from './browser.js';

/**
 * What the harness e2e files share: a Chorus test server whose ICE offers loopback only (the UDP
 * port left at its default, the TCP port's number, so every peer shares one muxed UDP port) and one
 * Chromium with the harness page, started before the file's tests and closed after them.
 */
export function useServerAndHarness(): { readonly server: TestServer; readonly browser: HarnessBrowser } {
  let server: TestServer | undefined;
  let browser: HarnessBrowser | undefined;
  beforeAll(async () => {
    server = await startTestServer({ iceHost: '127.0.0.1' });
    browser = await launchHarness();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started: use it inside a test`);
    return value;
  };
  return {
    get server() {
      return started(server, 'the test server');
    },
    get browser() {
      return started(browser, 'the harness browser');
    },
  };
}
