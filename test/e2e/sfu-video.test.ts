import { BatchCreateAttendeeCommand, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchHarness, snapshot, waitForSnapshot, type HarnessBrowser } from './harness/browser.js';

let t: TestServer;
let h: HarnessBrowser;

beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1', udpPort: 0 });
  h = await launchHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
  await t?.close();
});

async function meetingWith(names: string[]) {
  const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: `e2e-${Date.now()}` }));
  const { Attendees } = await t.client.send(new BatchCreateAttendeeCommand({
    MeetingId: Meeting!.MeetingId,
    Attendees: names.map((ExternalUserId) => ({ ExternalUserId })),
  }));
  return { meeting: Meeting!, attendees: Attendees! };
}

async function join(page: Page, meeting: unknown, attendee: unknown, video: boolean): Promise<void> {
  await page.evaluate(
    ([m, a, v]) => (window as unknown as { harness: { join(m: unknown, a: unknown, o: { video: boolean }): Promise<void> } }).harness.join(m, a, { video: v as boolean }),
    [meeting, attendee, video] as const,
  );
}

const decoding = (minTiles: number) => (s: Awaited<ReturnType<typeof snapshot>>) =>
  s.remote.length >= minTiles && s.remote.every((r) => r.frames > 5 && r.width >= 320);

describe('amazon-chime-sdk-js against the Chorus SFU', () => {
  it('three attendees each see the other two cameras decoding, and a stopped camera disappears', async () => {
    const { meeting, attendees } = await meetingWith(['ann', 'ben', 'cat']);
    const pages = await Promise.all(attendees.map(() => h.newPage()));
    await Promise.all(pages.map((page, i) => join(page, meeting, attendees[i], true)));

    for (const [i, page] of pages.entries()) {
      const s = await waitForSnapshot(page, decoding(2), 45_000);
      const others = attendees.filter((_, j) => j !== i).map((a) => a.AttendeeId).sort();
      expect(s.started).toBe(true);
      expect(s.remote.map((r) => r.attendeeId).sort()).toEqual(others);
      // Still decoding a moment later: frames keep arriving.
      const before = Math.min(...s.remote.map((r) => r.frames));
      const later = await waitForSnapshot(page, (x) => Math.min(...x.remote.map((r) => r.frames)) > before + 5, 10_000);
      expect(later.remote).toHaveLength(2);
    }

    await pages[0]!.evaluate(() => (window as unknown as { harness: { stopVideo(): void } }).harness.stopVideo());
    for (const page of pages.slice(1)) {
      const s = await waitForSnapshot(page, (x) => !x.remote.some((r) => r.attendeeId === attendees[0]!.AttendeeId), 15_000);
      expect(s.remote.map((r) => r.attendeeId)).not.toContain(attendees[0]!.AttendeeId);
    }
    await Promise.all(pages.map((p) => p.context().close()));
  }, 120_000);
});
