import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { harness, launchHarness, waitForSnapshot, type HarnessBrowser } from './harness/browser.js';

/** Codec preferences set with the SDK's setVideoCodecSendPreferences are honoured, and every receiver decodes. */

let t: TestServer;
let h: HarnessBrowser;
beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1' });
  h = await launchHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
  await t?.close();
});

async function outboundVideoCodec(page: Page): Promise<string | undefined> {
  const stats = await harness(page, 'rtcStats');
  return stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video' && Number(s.packetsSent ?? 0) > 0)?.codec as string | undefined;
}

describe('video codec preferences', () => {
  it('each camera goes out in its own first choice (VP9, H.264, AV1) and the others decode it', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(t.client, `codecs-${Date.now()}`, userIds('codec', 3));
    const prefs = [['vp9', 'vp8'], ['h264', 'vp8'], ['av1', 'vp8']] as const;
    const pages = await Promise.all(attendees.map(() => h.newPage()));
    try {
      for (const [i, page] of pages.entries()) await harness(page, 'join', meeting, attendees[i], { video: true, sendCodecs: [...prefs[i]!] });
      for (const [i, page] of pages.entries()) {
        const others = attendees.filter((_, k) => k !== i).map((a) => a.AttendeeId!);
        await waitForSnapshot(page, (s) => others.every((id) => s.remote.some((r) => r.attendeeId === id && r.frames > 5 && r.width > 0)), 45_000);
      }
      const sent = await Promise.all(pages.map(outboundVideoCodec));
      expect(sent[0]).toMatch(/^video\/VP9/);
      expect(sent[1]).toMatch(/^video\/H264 .*profile-level-id=42e0/);
      expect(sent[2]).toMatch(/^video\/AV1/);
    } finally {
      await Promise.all(pages.map((p) => p.context().close()));
    }
  }, 120_000);
});
