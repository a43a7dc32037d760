import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { harness, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

/** Codec preferences set with the SDK's setVideoCodecSendPreferences are honoured, and every receiver decodes. */

const suite = useServerAndHarness();

async function outboundVideoCodec(page: Page): Promise<string | undefined> {
  const stats = await harness(page, 'rtcStats');
  return stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video' && Number(s.packetsSent ?? 0) > 0)?.codec as string | undefined;
}

describe('video codec preferences', () => {
  it('each camera goes out in its own first choice (VP9, H.264, AV1) and the others decode it', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(suite.server.client, `codecs-${Date.now()}`, userIds('codec', 3));
    const prefs = [['vp9', 'vp8'], ['h264', 'vp8'], ['av1', 'vp8']] as const;
    const pages = await Promise.all(attendees.map(() => suite.browser.newPage()));
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
