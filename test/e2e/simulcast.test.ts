import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { harness, snapshot, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

/**
 * `enableSimulcastForUnifiedPlanChromiumBasedBrowsers`, as a Chime developer turns it on. Chrome sends
 * RID simulcast without SSRCs in its offer, and libdatachannel drops RTP of SSRCs no description lists,
 * so Chorus cannot receive such a camera (README, "Simulcast"). What it must do is keep the session
 * whole: refuse the camera the way Chime refuses a camera (SUBSCRIBE_ACK status 206, the SDK drops its
 * local video and stays), keep Chrome's renegotiations valid (it used to reconnect about once a second,
 * forever), and carry everything else: audio both ways and the video of those who publish without it.
 */

const suite = useServerAndHarness();

const TONES = [440, 660, 880] as const;

describe('simulcast turned on in the SDK', () => {
  it('two attendees with simulcast and one without: nobody reconnects, everyone hears the others, the simulcast cameras are refused and told so, and they see the other camera', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(suite.server.client, `simulcast-${Date.now()}`, TONES.map((hz) => `simulcast-${hz}`));
    const pages: Page[] = await Promise.all(attendees.map(() => suite.browser.newPage()));
    const plainId = attendees[2]!.AttendeeId!;
    try {
      for (const [i, page] of pages.entries()) {
        await harness(page, 'join', meeting, attendees[i], { video: true, simulcast: i < 2, toneHz: TONES[i], logLevel: 'WARN' });
      }
      const [first, second, plain] = pages as [Page, Page, Page];
      // The simulcast cameras are refused, and the SDK says so to the app.
      for (const page of [first, second]) await waitForSnapshot(page, (s) => s.videoSendUnavailable, 30_000);
      // The camera sent without simulcast reaches both, at its own size.
      for (const page of [first, second]) {
        await waitForSnapshot(page, (s) => s.remote.some((r) => r.attendeeId === plainId && r.frames > 10 && r.width >= 640), 45_000);
      }
      for (const [i, page] of pages.entries()) {
        await eventually(async () => {
          const power = await harness(page, 'measureAudio', [...TONES], 1500);
          const own = power[String(TONES[i])]!;
          for (const hz of TONES) {
            if (hz !== TONES[i]) expect(power[String(hz)]! - own, `page ${TONES[i]} hears ${hz}: ${JSON.stringify(power)}`).toBeGreaterThan(20);
          }
        }, 30_000);
      }
      // Ten more seconds of renegotiations (every INDEX change and metric tick): still one session each.
      const before = await Promise.all(pages.map((p) => snapshot(p)));
      await new Promise((r) => setTimeout(r, 10_000));
      for (const [i, page] of pages.entries()) {
        const s = await snapshot(page);
        expect(s.events.filter((e) => e === 'reconnecting' || e.startsWith('stopped')), `page ${i} events`).toEqual([]);
        const tile = s.remote.find((r) => r.attendeeId === plainId);
        if (i < 2) expect(tile!.frames, `page ${i} still decodes the plain camera`).toBeGreaterThan(before[i]!.remote.find((r) => r.attendeeId === plainId)!.frames + 20);
      }
      // Nobody is shown a tile that can never play: the refused cameras are not in INDEX.
      for (const page of [plain]) expect((await snapshot(page)).remote).toEqual([]);
    } finally {
      await Promise.all(pages.map((p) => p.context().close()));
    }
  }, 240_000);
});
