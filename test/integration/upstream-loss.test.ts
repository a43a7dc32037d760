import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Loss between a publisher and the server, for real: a headless publisher
 * withholds 5 % of its video packets (this kernel has no netem) but, like a
 * browser, resends what the server NACKs from its own history.
 */

let t: TestServer;
const clients: HeadlessClient[] = [];
beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
});

describe('loss toward the server', () => {
  it('is repaired: the server NACKs every packet the publisher withheld, and the subscriber\'s stream has no gap', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(t.client, `upstream-loss-${Date.now()}`, userIds('lossy', 2));
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50, videoSendLoss: { rate: 0.05, seed: 42 } });
    const received: number[] = [];
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, {
      receiveSlots: 1,
      onRtp: (kind, _mid, packet) => {
        const info = kind === 'video' ? parseRtp(packet) : undefined;
        if (info) received.push(info.sequenceNumber);
      },
    });
    clients.push(publisher, viewer);
    await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendees[1]!.AttendeeId));
    await eventually(() => expect(received.length).toBeGreaterThan(0));
    const camera = publisher.syntheticVideo!;
    const firstWithheld = camera.withheld.length;
    // 200 packets at 50 a second: about 10 withheld.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const withheld = camera.withheld.slice(firstWithheld, -3);
    expect(withheld.length).toBeGreaterThan(3);
    // The server asked for every one of them (a packet withheld in the last ~60 ms may still be due).
    await eventually(() => expect(withheld.filter((seq) => !camera.nacked.has(seq))).toEqual([]), 2_000);
    expect(camera.resent).toBeGreaterThanOrEqual(withheld.length);

    // What the viewer got, from its first packet to 10 packets before its last: every number is there.
    const seen = new Set(received);
    const start = received[0]!;
    const span = (received.at(-1)! - start - 10) & 0xffff;
    const missing = Array.from({ length: span }, (_, i) => (start + i) & 0xffff).filter((seq) => !seen.has(seq));
    expect(missing).toEqual([]);
    const stats = t.server.signaling.room(meeting.MeetingId!)!.videoStats;
    expect(stats.upstreamNacks).toBeGreaterThan(0);
    expect(stats.upstreamRecovered).toBeGreaterThanOrEqual(withheld.length);
  }, 30_000);
});
