import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, launchHarness, type HarnessBrowser } from './harness/browser.js';

/**
 * The meeting app's camera uplink policy queues the SDK's encoder updates. In real
 * Chromium, on the SDK's own transceiver controller: updates made without waiting
 * (as after renegotiations close together) overlap on the sender, which Chrome can
 * reject ("getParameters() has never been called on this sender", seen in busy
 * meetings on loaded machines); queued, one runs at a time, all apply, the last wins.
 */

let h: HarnessBrowser;
beforeAll(async () => {
  h = await launchHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('camera encoder updates', () => {
  it('updates made without waiting overlap on the sender as the SDK makes them; queued, one at a time, the last wins', async () => {
    const page = await h.newPage();
    try {
      const raw = await harness(page, 'encoderUpdateRace', false);
      // What the SDK does on its own: the reason the app queues.
      expect(raw.maxInFlight).toBeGreaterThan(1);
      const queued = await harness(page, 'encoderUpdateRace', true);
      expect(queued.failures).toEqual([]);
      expect(queued.maxInFlight).toBe(1);
      expect(queued.maxBitrate).toBe(250_000);
    } finally {
      await page.context().close();
    }
  }, 60_000);
});
