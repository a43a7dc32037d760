import { CreateAttendeeCommand, CreateMeetingCommand, GetMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingEndReason } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
const ended = new Map<string, MeetingEndReason>();

beforeAll(async () => {
  t = await startTestServer({ lifecycle: { noJoinMs: 300, emptyMs: 300, maxDurationMs: 4000 } });
  t.server.service.events.on('meetingEnded', ({ meeting, reason }) => ended.set(meeting.MeetingId, reason));
});
afterAll(async () => {
  await t.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const create = async () => (await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }))).Meeting!.MeetingId!;
const exists = async (id: string) =>
  t.client.send(new GetMeetingCommand({ MeetingId: id })).then(() => true, (e: Error) => {
    if (e.name !== 'NotFoundException') throw e;
    return false;
  });

describe('meeting lifecycle with shortened timeouts', () => {
  it('ends a meeting nobody joined, and its tokens stop working', async () => {
    const id = await create();
    const { Attendee } = await t.client.send(new CreateAttendeeCommand({ MeetingId: id, ExternalUserId: 'late-comer' }));
    expect(await exists(id)).toBe(true);
    await sleep(700);
    expect(await exists(id)).toBe(false);
    expect(ended.get(id)).toBe('no-attendee-joined');
    expect(await t.server.service.resolveJoinToken(Attendee!.JoinToken!)).toBeUndefined();
  });

  it('keeps a meeting while someone is present and ends it once everyone has left for the timeout', async () => {
    const id = await create();
    t.server.service.participantJoined(id, 'a1');
    t.server.service.participantJoined(id, 'a2');
    await sleep(600);
    expect(await exists(id)).toBe(true);
    t.server.service.participantLeft(id, 'a1');
    await sleep(600);
    expect(await exists(id)).toBe(true);
    t.server.service.participantLeft(id, 'a2');
    await sleep(100);
    // Rejoining within the grace period keeps it alive.
    t.server.service.participantJoined(id, 'a2');
    await sleep(400);
    expect(await exists(id)).toBe(true);
    t.server.service.participantLeft(id, 'a2');
    await sleep(700);
    expect(await exists(id)).toBe(false);
    expect(ended.get(id)).toBe('all-attendees-left');
  });

  it('ends any meeting at its maximum duration', async () => {
    const id = await create();
    t.server.service.participantJoined(id, 'stayer');
    await sleep(2500);
    expect(await exists(id)).toBe(true);
    await sleep(2000);
    expect(await exists(id)).toBe(false);
    expect(ended.get(id)).toBe('max-duration');
  });
});
