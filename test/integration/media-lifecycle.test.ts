import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/eventually.js';

/** A participant's media connection dies under a live signaling session, with real node-datachannel peers. */

let t: TestServer;
const clients: HeadlessClient[] = [];
beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
});

describe('a failed media peer', () => {
  it('is dropped at once (the others see its video go), and the next SUBSCRIBE on the same session gets a fresh peer, not 4400', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(t.client, `lifecycle-${Date.now()}`, userIds('peer', 2));
    const audioHost = meeting.MediaPlacement!.AudioHostUrl!;
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50 });
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1 });
    clients.push(publisher, viewer);
    const [firstStream] = viewer.latestSources(attendees[1]!.AttendeeId);
    await viewer.subscribe(audioHost, [firstStream!]);
    await eventually(() => expect(viewer.received.get('2') ?? 0).toBeGreaterThan(10));

    // The publisher's connection goes away under its still-open signaling session, and it offers a new one.
    const logsBefore = t.logs.length;
    const framesBefore = viewer.frames.length;
    const ack = await publisher.restartPeer(audioHost);
    expect(ack.suback?.sdpAnswer).toMatch(/^v=0/);
    await publisher.connected();
    expect(publisher.closeCode).toBeUndefined();
    expect(t.logs.slice(logsBefore).join('\n')).toContain('media_peer_failed');
    // The room told the others that its video went: an INDEX without it.
    const indexes = viewer.frames.slice(framesBefore).filter((f) => f.index).map((f) => f.index!.sources.map((s) => s.streamId));
    expect(indexes).toContainEqual([]);

    // Its camera is back under a new stream, and the viewer gets video again.
    await eventually(() => expect(viewer.latestSources(attendees[1]!.AttendeeId)).toHaveLength(1), 5_000);
    const [secondStream] = viewer.latestSources(attendees[1]!.AttendeeId);
    expect(secondStream).not.toBe(firstStream);
    const before = viewer.received.get('2') ?? 0;
    await viewer.subscribe(audioHost, [secondStream!]);
    await eventually(() => expect((viewer.received.get('2') ?? 0) - before).toBeGreaterThan(10), 5_000);
    expect(viewer.closeCode).toBeUndefined();
  }, 40_000);
});
