import type { Attendee, Meeting } from '@aws-sdk/client-chime-sdk-meetings';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SdkNotificationFrame_NotificationLevel, SdkSignalFrame_Type as T } from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { signalingUrl, SignalClient } from '../helpers/signaling-client.js';
import { harness, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';
import type { ReceivedDataMessage } from './harness/harness-data.js';

/**
 * Data messages between unmodified amazon-chime-sdk-js clients in Chromium:
 * relay with the sender's ids, the lifetime buffer for a late joiner, throttling
 * of a burst, and a forged bad frame from a headless client that disturbs nobody.
 */

const suite = useServerAndHarness();

const TOPICS = ['chat', 'burst', 'marker'];
const messages = (page: Page): Promise<ReceivedDataMessage[]> => harness(page, 'dataMessages');

async function joinAndStart(page: Page, meeting: Meeting, attendee: Attendee): Promise<void> {
  await harness(page, 'join', meeting, attendee, { video: false, dataTopics: TOPICS });
  await waitForSnapshot(page, (s) => s.started, 30_000);
}

describe('data messages with amazon-chime-sdk-js', () => {
  it('relays with sender ids, replays the buffer to a late joiner once, throttles a burst, and shrugs off a forged frame', async () => {
    const { meeting, attendees: [ann, ben, cat, forger] } = await createMeetingWithAttendees(suite.server.client, `e2e-data-${Date.now()}`, ['ann', 'ben', 'cat', 'forger']);
    const [pageA, pageB] = await Promise.all([suite.browser.newPage(), suite.browser.newPage()]);
    await Promise.all([joinAndStart(pageA, meeting, ann!), joinAndStart(pageB, meeting, ben!)]);

    // A sends on "chat" with a lifetime; B receives it with A's ids.
    const before = Date.now();
    await harness(pageA, 'sendData', 'chat', 'hello from ann', 120_000);
    const atB = await eventually(async () => {
      const got = (await messages(pageB)).filter((m) => m.topic === 'chat');
      expect(got).toHaveLength(1);
      return got[0]!;
    }, 10_000, 100);
    expect(atB).toMatchObject({ text: 'hello from ann', senderAttendeeId: ann!.AttendeeId, senderExternalUserId: 'ann', throttled: false });
    expect(Math.abs(atB.timestampMs - before)).toBeLessThan(30_000);
    expect(await messages(pageA)).toEqual([]);

    // C joins later and gets the buffered message, exactly once: a marker sent after C joined arrives after any replay.
    const pageC = await suite.browser.newPage();
    await joinAndStart(pageC, meeting, cat!);
    await harness(pageB, 'sendData', 'marker', 'after C joined', 0);
    const atC = await eventually(async () => {
      const got = await messages(pageC);
      expect(got.some((m) => m.topic === 'marker')).toBe(true);
      return got;
    }, 10_000, 100);
    expect(atC.filter((m) => m.topic === 'chat')).toEqual([atB]);

    // A headless client forges what the SDK would refuse to send: an oversized payload, then an undecodable frame.
    const forged = await SignalClient.connect(signalingUrl(meeting), { token: forger!.JoinToken! });
    await forged.join();
    forged.send({ type: T.DATA_MESSAGE, dataMessage: { messages: [{ topic: 'chat', data: new Uint8Array(4096), lifetimeMs: 0 }] } });
    const notice = await forged.frame(T.NOTIFICATION);
    expect(notice.notification).toMatchObject({ level: SdkNotificationFrame_NotificationLevel.ERROR });
    expect(notice.notification!.message).toContain('PAYLOAD_TOO_LARGE');
    forged.sendRaw(new Uint8Array([0x05, 0xff, 0xff, 0xff]));
    expect((await forged.closed()).code).toBe(4400);

    // A burst of 400 from A: some come back to A as throttled, the rest reach B and C in order.
    await harness(pageA, 'sendData', 'burst', 'm', 0, 400);
    const [delivered, throttled] = await eventually(async () => {
      const b = (await messages(pageB)).filter((m) => m.topic === 'burst');
      const a = (await messages(pageA)).filter((m) => m.topic === 'burst');
      expect(a.length + b.length).toBe(400);
      return [b, a] as const;
    }, 20_000, 200);
    expect(throttled.length).toBeGreaterThan(50);
    expect(delivered.length).toBeGreaterThan(150);
    expect(throttled.every((m) => m.throttled && m.senderAttendeeId === ann!.AttendeeId)).toBe(true);
    expect(delivered.every((m) => !m.throttled && m.senderAttendeeId === ann!.AttendeeId)).toBe(true);
    const indices = delivered.map((m) => Number(m.text.slice(1)));
    expect(indices).toEqual([...indices].sort((x, y) => x - y));
    expect(new Set([...indices, ...throttled.map((m) => Number(m.text.slice(1)))]).size).toBe(400);
    await eventually(async () => {
      const c = (await messages(pageC)).filter((m) => m.topic === 'burst').map((m) => m.text);
      expect(c).toEqual(delivered.map((m) => m.text));
    }, 10_000, 200);

    // Nobody's session was disturbed along the way.
    for (const page of [pageA, pageB, pageC]) {
      const s = await waitForSnapshot(page, (x) => x.started);
      expect(s.stopped).toBeUndefined();
    }
    await Promise.all([pageA, pageB, pageC].map((p) => p.context().close()));
  }, 120_000);

  it('a client that reconnects gets what it missed with a lifetime, and nothing twice', async () => {
    const { meeting, attendees: [dee, eli] } = await createMeetingWithAttendees(suite.server.client, `e2e-data-reconnect-${Date.now()}`, ['dee', 'eli']);
    const [pageD, pageE] = await Promise.all([suite.browser.newPage(), suite.browser.newPage()]);
    await Promise.all([joinAndStart(pageD, meeting, dee!), joinAndStart(pageE, meeting, eli!)]);
    const chatAtE = async () => (await messages(pageE)).filter((m) => m.topic === 'chat').map((m) => m.text);

    await harness(pageD, 'sendData', 'chat', 'before', 120_000);
    await eventually(async () => expect(await chatAtE()).toEqual(['before']), 10_000, 100);

    // The server drops E's signaling with a 45xx code, which the SDK answers by reconnecting (same audio_session_id).
    const room = suite.server.server.signaling.room(meeting.MeetingId!)!;
    const first = room.participant(eli!.AttendeeId!)!;
    first.session.close(4500, 'test: reconnect please');
    await harness(pageD, 'sendData', 'chat', 'during', 120_000);
    await eventually(() => {
      const now = room.participant(eli!.AttendeeId!);
      expect(now && now !== first).toBe(true);
    }, 20_000, 100);
    await harness(pageD, 'sendData', 'marker', 'after', 0);
    await eventually(async () => expect((await messages(pageE)).some((m) => m.topic === 'marker')).toBe(true), 10_000, 100);
    expect(await chatAtE()).toEqual(['before', 'during']);
    expect((await waitForSnapshot(pageE, (x) => x.started)).stopped).toBeUndefined();
    await Promise.all([pageD, pageE].map((p) => p.context().close()));
  }, 90_000);
});
