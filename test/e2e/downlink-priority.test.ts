import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { harness, snapshot, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

/**
 * The SDK's VideoPriorityBasedPolicy (the default downlink policy with simulcast or SVC) needs a
 * downlink estimate: Chromium's availableIncomingBitrate (from REMB with abs-send-time) or the
 * server's BITRATES server_available_outgoing_bitrate. Without one it pauses tiles "for bandwidth"
 * even on loopback. Four attendees (the 4-way call), every camera on.
 */

const ATTENDEES = Number(process.env.CHORUS_PRIORITY_ATTENDEES ?? 4);
/** How long every tile must keep decoding with no bandwidth pause, after all of them first decoded. */
const WATCH_MS = 30_000;

const suite = useServerAndHarness();

async function estimate(page: Page): Promise<number | undefined> {
  const stats = await harness(page, 'rtcStats');
  const pair = stats.find((s) => s.pair !== undefined && s.availableIncomingBitrate !== undefined);
  return pair ? Number(pair.availableIncomingBitrate) : undefined;
}

describe('priority-based downlink policy on loopback', () => {
  it(`pauses no tile for bandwidth in a ${ATTENDEES}-way call, and the downlink estimate reaches the client`, async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(suite.server.client, `priority-${Date.now()}`, userIds('prio', ATTENDEES));
    const pages = await Promise.all(attendees.map(() => suite.browser.newPage()));
    const serverEstimates = pages.map(() => [] as number[]);
    const policyLog = pages.map(() => [] as string[]);
    pages.forEach((page, i) => page.on('console', (m) => {
      const text = m.text();
      const match = /server side estimation of available incoming bitrate (\d+)kbps/.exec(text);
      if (match) serverEstimates[i]!.push(Number(match[1]));
      if (/bwe:|pause|Probe/i.test(text)) policyLog[i]!.push(text.slice(0, 300));
    }));
    const diagnose = () => console.log('downlink-priority diagnosis', JSON.stringify({ serverEstimates, policyLog: policyLog.map((l) => l.slice(-15)) }, null, 1));
    try {
      for (const [i, page] of pages.entries()) await harness(page, 'join', meeting, attendees[i], { video: true, downlinkPolicy: 'priority', logLevel: 'INFO' });
      for (const page of pages) {
        await waitForSnapshot(page, (s) => s.remote.length === ATTENDEES - 1 && s.remote.every((r) => r.frames > 5 && r.width > 0), 90_000);
      }
      const before = await Promise.all(pages.map(snapshot));
      await new Promise((r) => setTimeout(r, WATCH_MS));
      const after = await Promise.all(pages.map(snapshot));
      const estimates = await Promise.all(pages.map(estimate));
      console.log('downlink-priority', JSON.stringify({
        availableIncomingBitrateKbps: estimates.map((e) => (e === undefined ? null : Math.round(e / 1000))),
        serverEstimatesKbps: serverEstimates.map((e) => e.slice(-3)),
        pauses: after.map((s) => s.events.filter((e) => e.startsWith('bandwidth'))),
      }));
      for (const [i, s] of after.entries()) {
        expect(s.events.filter((e) => e.startsWith('bandwidthPaused')), `page ${i} bandwidth pauses`).toEqual([]);
        expect(s.remote).toHaveLength(ATTENDEES - 1);
        for (const tile of s.remote) {
          const earlier = before[i]!.remote.find((r) => r.tileId === tile.tileId);
          // Still decoding at the end: at least 2 frames a second of the fake camera's 5.
          expect(tile.frames - (earlier?.frames ?? 0), `page ${i} tile ${tile.attendeeId}`).toBeGreaterThan((WATCH_MS / 1000) * 2);
        }
      }
      // Chromium's REMB (receive-side estimator over the server's abs-send-time) reached the server from every page.
      const rembs = new Map<string, number[]>();
      for (const line of suite.server.logs.filter((l) => l.includes('"video_bitrates"'))) {
        for (const entry of (JSON.parse(line) as { downlinks: string[] }).downlinks) {
          const match = /^(.+?):\d+ remb=(\d+)/.exec(entry);
          if (match && Number(match[2]) > 0) rembs.set(match[1]!, [...(rembs.get(match[1]!) ?? []), Number(match[2])]);
        }
      }
      console.log('downlink-priority remb kbps (min, median, max)', JSON.stringify([...rembs.values()].map((v) => {
        const sorted = [...v].sort((x, y) => x - y);
        return [sorted[0], sorted[Math.floor(sorted.length / 2)], sorted.at(-1)];
      })));
      expect(attendees.every((a) => (rembs.get(a.AttendeeId!) ?? []).length > 0)).toBe(true);
      // Nor did the server pause anything to fit a downlink.
      expect(suite.server.logs.filter((l) => l.includes('video_paused_for_bandwidth'))).toEqual([]);
      // The server's estimate arrived in BITRATES, on every page, and it is a loopback figure: well over a megabit.
      for (const [i, e] of serverEstimates.entries()) {
        expect(e.length, `page ${i} BITRATES with server_available_outgoing_bitrate`).toBeGreaterThan(0);
        expect(e.at(-1)!, `page ${i} server estimate`).toBeGreaterThan(1000);
      }
    } catch (error) {
      diagnose();
      console.log(suite.server.logs.filter((l) => l.includes('video_bitrates')).slice(-40).join('\n'));
      throw error;
    } finally {
      await Promise.all(pages.map((p) => p.context().close()));
    }
  }, 300_000);
});
