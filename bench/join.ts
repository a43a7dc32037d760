import { harness, launchHarness, waitForSnapshot } from '../test/e2e/harness/browser.js';
import { createMeetingWithAttendees, userIds } from '../test/helpers/meetings.js';
import { startBenchServer } from './bench-server.js';
import { percentile } from './proc-stats.js';

/**
 * `npm run bench join [-- --joins N]`: how long a person waits to see someone.
 * One Chromium page publishes its (fake) camera; another joins N times with the
 * real amazon-chime-sdk-js, each time from audioVideo.start() to the first
 * presented frame of that camera (requestVideoFrameCallback), then leaves.
 */
export async function runJoinBench(options: { joins: number }): Promise<void> {
  const server = await startBenchServer({ logLevel: 'warn' });
  const api = server.api();
  // A camera at 30 frames a second, as real ones run (the tests' fake camera runs at 5).
  const h = await launchHarness({ cameraFps: 30 });
  const waits: number[] = [];
  try {
    const { meeting, attendees } = await createMeetingWithAttendees(api, `bench-join-${Date.now()}`, userIds('join', options.joins + 1));
    const publisher = await h.newPage();
    await harness(publisher, 'join', meeting, attendees[0], { video: true });
    await waitForSnapshot(publisher, (s) => s.started && s.localTile, 20_000);
    for (let i = 1; i <= options.joins; i++) {
      const page = await h.newPage();
      try {
        await harness(page, 'join', meeting, attendees[i], { video: false });
        const seen = await waitForSnapshot(page, (s) => s.remote.some((r) => r.attendeeId === attendees[0]!.AttendeeId && r.firstFrameAt !== undefined), 20_000);
        const tile = seen.remote.find((r) => r.attendeeId === attendees[0]!.AttendeeId)!;
        const ms = tile.firstFrameAt! - seen.startCalledAt!;
        waits.push(ms);
        console.log(`join ${i}: first frame ${ms.toFixed(0)} ms after start()`);
        await harness(page, 'leave');
      } finally {
        await page.context().close();
      }
    }
  } finally {
    await h.close();
    api.destroy();
    await server.stop();
  }
  const f = (v: number): string => v.toFixed(0);
  console.log(`\nJoin to first presented frame over ${waits.length} joins (Chromium ${'with the real SDK'}, loopback): ` +
    `p50 ${f(percentile(waits, 50))} ms, p90 ${f(percentile(waits, 90))} ms, min ${f(Math.min(...waits))} ms, max ${f(Math.max(...waits))} ms`);
}
