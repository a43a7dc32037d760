import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { harness, snapshot, waitForSnapshot, type HarnessSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

/**
 * SVC as a Chime developer turns it on: `enableSVC` with VP9 preferred. With three or more
 * participants the SDK's uplink policy encodes VP9 L3T3 (three spatial, three temporal layers
 * on one SSRC); the server lists the layers in INDEX, and each viewer's VideoPriorityBasedPolicy
 * picks one per camera from its VideoPreferences. One viewer asks for a small tile of a camera,
 * another for the largest: the first is forwarded a lower spatial layer, the second all of them.
 */

const suite = useServerAndHarness();

const tileOf = (s: HarnessSnapshot, attendeeId: string) => s.remote.find((r) => r.attendeeId === attendeeId && !r.isContent);

describe('SVC with the real SDK (enableSVC, VP9)', () => {
  it.each([
    ['the server chooses (server-side adaptation, the policy\'s default)', 'priority'],
    ['the client chooses (its policy set to no server-side adaptation)', 'priority-client'],
  ] as const)('three cameras in VP9 L3T3, %s: a viewer asking for a small tile gets a lower spatial layer while another gets full size, without reconnecting', async (_how, downlinkPolicy) => {
    const { meeting, attendees } = await createMeetingWithAttendees(suite.server.client, `svc-${Date.now()}`, userIds('svc', 3));
    const pages: Page[] = await Promise.all(attendees.map(() => suite.browser.newPage()));
    const [small, large, publisher] = pages as [Page, Page, Page];
    const publisherId = attendees[2]!.AttendeeId!;
    const otherId = attendees[1]!.AttendeeId!;
    try {
      for (const [i, page] of pages.entries()) {
        await harness(page, 'join', meeting, attendees[i], { video: true, svc: true, sendCodecs: ['vp9'], downlinkPolicy, logLevel: 'WARN' });
      }
      for (const page of pages) await waitForSnapshot(page, (s) => s.remote.length === 2 && s.remote.every((r) => r.frames > 5 && r.width > 0), 90_000);
      // The publisher encodes layers: VP9 with a scalability mode of three spatial layers.
      const outbound = async () => (await harness(publisher, 'rtcStats')).find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
      await expect.poll(async () => (await outbound())?.scalabilityMode, { timeout: 30_000 }).toBe('L3T3');
      expect(String((await outbound())?.codec)).toContain('VP9');
      // The server saw the layers and lists them.
      await expect.poll(() => suite.server.logs.some((l) => l.includes('"video_layers"') && l.includes(publisherId)), { timeout: 15_000 }).toBe(true);

      await harness(small, 'preferVideos', [{ attendeeId: publisherId, priority: 1, size: 'Low' }, { attendeeId: otherId, priority: 1, size: 'Maximum' }]);
      await harness(large, 'preferVideos', [{ attendeeId: publisherId, priority: 1, size: 'Maximum' }, { attendeeId: attendees[0]!.AttendeeId!, priority: 1, size: 'Maximum' }]);
      const full = await waitForSnapshot(large, (s) => (tileOf(s, publisherId)?.height ?? 0) > 0, 30_000);
      const fullHeight = tileOf(full, publisherId)!.height;
      const reduced = await waitForSnapshot(small, (s) => {
        const tile = tileOf(s, publisherId);
        return tile !== undefined && tile.height > 0 && tile.height < fullHeight;
      }, 45_000);
      const smallTile = tileOf(reduced, publisherId)!;
      console.log(`svc (${downlinkPolicy}): the viewer asking for a small tile decodes ${smallTile.width}x${smallTile.height}, the other ${tileOf(full, publisherId)!.width}x${fullHeight}`);
      // Still decoding a few seconds on; and the full-size viewer still full.
      await new Promise((r) => setTimeout(r, 5_000));
      const [laterSmall, laterLarge] = await Promise.all([snapshot(small), snapshot(large)]);
      expect(tileOf(laterSmall, publisherId)!.frames).toBeGreaterThan(smallTile.frames + 10);
      // (Its size a few seconds on is not asserted: Low means "at most 300 kbps", and when the fake camera's whole
      // stream costs less than that, the policy rightly climbs back to it; seen once in client mode.)
      expect(tileOf(laterLarge, publisherId)!.height).toBe(fullHeight);
      for (const page of pages) expect((await snapshot(page)).events.filter((e) => e === 'reconnecting' || e.startsWith('stopped'))).toEqual([]);
    } finally {
      await Promise.all(pages.map((p) => p.context().close()));
    }
  }, 240_000);
});
