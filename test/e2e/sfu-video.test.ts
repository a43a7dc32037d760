import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { harness, snapshot, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

const suite = useServerAndHarness();

async function meetingWith(names: string[]) {
  return createMeetingWithAttendees(suite.server.client, `e2e-${Date.now()}`, names);
}

async function join(page: Page, meeting: unknown, attendee: unknown, video: boolean): Promise<void> {
  await harness(page, 'join', meeting, attendee, { video });
}

const decoding = (minTiles: number) => (s: Awaited<ReturnType<typeof snapshot>>) =>
  s.remote.length >= minTiles && s.remote.every((r) => r.frames > 5 && r.width >= 320);

describe('amazon-chime-sdk-js against the Chorus SFU', () => {
  it('three attendees each see the other two cameras decoding, and a stopped camera disappears', async () => {
    const { meeting, attendees } = await meetingWith(['ann', 'ben', 'cat']);
    const pages = await Promise.all(attendees.map(() => suite.browser.newPage()));
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

    // Every peer connection uses the one muxed UDP port, which by default has the TCP port's number.
    for (const page of pages) {
      const stats = (await page.evaluate(() => (window as unknown as { harness: { rtcStats(): Promise<{ pair?: string }[]> } }).harness.rtcStats())) as { pair?: string }[];
      const pairs = stats.filter((x) => x.pair).map((x) => x.pair!);
      expect(pairs.length).toBeGreaterThan(0);
      for (const pair of pairs) expect(pair).toMatch(new RegExp(`-> host:127\\.0\\.0\\.1:${suite.server.server.port}$`));
    }

    await harness(pages[0]!, 'stopVideo');
    for (const page of pages.slice(1)) {
      const s = await waitForSnapshot(page, (x) => !x.remote.some((r) => r.attendeeId === attendees[0]!.AttendeeId), 15_000);
      expect(s.remote.map((r) => r.attendeeId)).not.toContain(attendees[0]!.AttendeeId);
    }
    await Promise.all(pages.map((p) => p.context().close()));
  }, 120_000);

  it('content share appears to the others as <id>#content, a third share is refused, and leave/rejoin work', async () => {
    const { meeting, attendees } = await meetingWith(['dan', 'eve', 'fay']);
    const [dan, eve, fay] = attendees;
    const pages = await Promise.all(attendees.map(() => suite.browser.newPage()));
    await Promise.all(pages.map((page, i) => join(page, meeting, attendees[i], false)));
    await Promise.all(pages.map((page) => waitForSnapshot(page, (x) => x.started)));
    const [danPage, evePage, fayPage] = pages as [Page, Page, Page];

    await harness(danPage, 'shareCanvas');
    await waitForSnapshot(danPage, (x) => x.contentShare.includes('started'));
    for (const page of [evePage, fayPage]) {
      const s = await waitForSnapshot(page, (x) => x.remote.some((r) => r.attendeeId === `${dan!.AttendeeId}#content` && r.isContent && r.frames > 5 && r.width >= 320));
      expect(s.presence[`${dan!.AttendeeId}#content`]).toBe(true);
    }
    // The sharer's own content tile is the SDK's local preview: the server sends its main session no video at all.
    const room = suite.server.server.signaling.room(meeting.MeetingId!)!;
    expect(room.videosSentTo(dan!.AttendeeId!)).toBe(0);
    expect(room.videosSentTo(eve!.AttendeeId!)).toBe(1);

    await harness(evePage, 'shareCanvas');
    await waitForSnapshot(fayPage, (x) => x.remote.some((r) => r.attendeeId === `${eve!.AttendeeId}#content` && r.frames > 5));
    await harness(fayPage, 'shareCanvas').catch(() => undefined);
    const refused = await waitForSnapshot(fayPage, (x) => x.contentShare.includes('stopped'));
    expect(refused.contentShare).not.toContain('started');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await snapshot(danPage)).remote.some((r) => r.attendeeId === `${fay!.AttendeeId}#content`)).toBe(false);

    // Leaving removes the leaver's content tile and presence for the others; rejoining works.
    await harness(evePage, 'leave');
    const afterLeave = await waitForSnapshot(danPage, (x) => x.presence[eve!.AttendeeId!] === false && !x.remote.some((r) => r.attendeeId.startsWith(eve!.AttendeeId!)), 2_000);
    expect(afterLeave.presence[eve!.AttendeeId!]).toBe(false);
    const rejoined = await suite.browser.newPage();
    await join(rejoined, meeting, eve, true);
    await waitForSnapshot(rejoined, (x) => x.started && x.remote.some((r) => r.attendeeId === `${dan!.AttendeeId}#content` && r.frames > 5));
    await waitForSnapshot(danPage, (x) => x.presence[eve!.AttendeeId!] === true && x.remote.some((r) => r.attendeeId === eve!.AttendeeId && r.frames > 5));
    await Promise.all([...pages, rejoined].map((p) => p.context().close()));
  }, 120_000);
  it('a stopped content share or camera is renegotiated on the same connection, without a reconnect, and sharing again works', async () => {
    // When a video leaves the INDEX, the SDK stops its receive transceiver and re-subscribes with that
    // m-section rejected (port 0). The answer must reject it too: one that still says sendonly there made
    // Chrome refuse the whole answer ("Incompatible receive direction"), and every viewer reconnected.
    const { meeting, attendees } = await meetingWith(['gus', 'hal']);
    const [gus, hal] = attendees;
    const [gusPage, halPage] = await Promise.all(attendees.map(() => suite.browser.newPage())) as [Page, Page];
    await Promise.all([join(gusPage, meeting, gus, true), join(halPage, meeting, hal, false)]);
    const content = `${gus!.AttendeeId}#content`;
    const settled = async () => {
      // The offer/answer that rejected the stopped m-section completed on hal's first peer connection.
      await eventually(async () => expect(await harness(halPage, 'negotiation')).toEqual({ peerConnections: 1, signalingState: 'stable', stoppingTransceivers: 0 }), 15_000);
      expect((await snapshot(halPage)).events).not.toContain('reconnecting');
    };

    await waitForSnapshot(halPage, (x) => x.remote.some((r) => r.attendeeId === gus!.AttendeeId && r.frames > 5), 45_000);
    for (let round = 0; round < 2; round++) {
      await harness(gusPage, 'shareCanvas');
      await waitForSnapshot(halPage, (x) => x.remote.some((r) => r.attendeeId === content && r.frames > 5), 45_000);
      await settled();
      await harness(gusPage, 'stopContentShare');
      await waitForSnapshot(halPage, (x) => !x.remote.some((r) => r.attendeeId === content), 15_000);
      await settled();
    }
    // The camera is still decoding, on the same connection.
    const before = (await snapshot(halPage)).remote.find((r) => r.attendeeId === gus!.AttendeeId)!.frames;
    await waitForSnapshot(halPage, (x) => (x.remote.find((r) => r.attendeeId === gus!.AttendeeId)?.frames ?? 0) > before + 5, 15_000);

    await harness(gusPage, 'stopVideo');
    await waitForSnapshot(halPage, (x) => x.remote.length === 0, 15_000);
    await settled();
    await Promise.all([gusPage, halPage].map((p) => p.context().close()));
  }, 180_000);
});
