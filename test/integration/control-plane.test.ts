import {
  BatchCreateAttendeeCommand,
  BatchUpdateAttendeeCapabilitiesExceptCommand,
  ChimeSDKMeetingsServiceException,
  CreateAttendeeCommand,
  CreateMeetingCommand,
  CreateMeetingWithAttendeesCommand,
  DeleteAttendeeCommand,
  DeleteMeetingCommand,
  GetAttendeeCommand,
  GetMeetingCommand,
  ListAttendeesCommand,
  StartMeetingTranscriptionCommand,
  UpdateAttendeeCapabilitiesCommand,
  type ChimeSDKMeetingsClient,
} from '@aws-sdk/client-chime-sdk-meetings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs `call` and returns the service exception it must fail with. */
async function failure(call: Promise<unknown>): Promise<ChimeSDKMeetingsServiceException> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ChimeSDKMeetingsServiceException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

let t: TestServer;
let client: ChimeSDKMeetingsClient;

beforeAll(async () => {
  t = await startTestServer();
  client = t.client;
});
afterAll(async () => {
  await t.close();
});

async function newMeeting(extra: Partial<ConstructorParameters<typeof CreateMeetingCommand>[0]> = {}) {
  const out = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'team-sync', ...extra }));
  return { ...out.Meeting!, MeetingId: out.Meeting!.MeetingId! };
}

describe('meetings', () => {
  it('CreateMeeting returns a UUID and a MediaPlacement that points at this server', async () => {
    const meeting = await newMeeting({ MeetingHostId: 'host-1', MeetingFeatures: { Audio: { EchoReduction: 'AVAILABLE' } } });
    expect(meeting.MeetingId).toMatch(UUID);
    expect(meeting.ExternalMeetingId).toBe('team-sync');
    expect(meeting.MediaRegion).toBe('us-east-1');
    expect(meeting.MeetingHostId).toBe('host-1');
    expect(meeting.MeetingFeatures?.Audio?.EchoReduction).toBe('AVAILABLE');
    expect(meeting.MeetingArn).toBe(`arn:aws:chime:us-east-1:000000000000:meeting/${meeting.MeetingId}`);
    const port = t.server.port;
    const placement = meeting.MediaPlacement!;
    expect(placement.SignalingUrl).toBe(`ws://127.0.0.1:${port}/control/${meeting.MeetingId}`);
    expect(placement.AudioHostUrl).toContain(`127.0.0.1:${port}`);
    expect(placement.TurnControlUrl).toBe(`http://127.0.0.1:${port}/v2/turn_sessions`);
    for (const key of ['ScreenDataUrl', 'ScreenSharingUrl', 'ScreenViewingUrl', 'AudioFallbackUrl'] as const) {
      expect(placement[key]).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${port}/`));
    }
    expect(placement.EventIngestionUrl).toBeUndefined();
  });

  it('GetMeeting returns the same meeting; DeleteMeeting ends it', async () => {
    const meeting = await newMeeting();
    const got = await client.send(new GetMeetingCommand({ MeetingId: meeting.MeetingId }));
    expect(got.Meeting).toEqual(meeting);
    const deleted = await client.send(new DeleteMeetingCommand({ MeetingId: meeting.MeetingId }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const gone = await failure(client.send(new GetMeetingCommand({ MeetingId: meeting.MeetingId })));
    expect(gone.name).toBe('NotFoundException');
    expect(gone.$metadata.httpStatusCode).toBe(404);
    const again = await failure(client.send(new DeleteMeetingCommand({ MeetingId: meeting.MeetingId })));
    expect(again.name).toBe('NotFoundException');
  });

  it('ClientRequestToken makes CreateMeeting idempotent', async () => {
    const first = await newMeeting({ ClientRequestToken: 'retry-token-1' });
    const second = await newMeeting({ ClientRequestToken: 'retry-token-1' });
    const other = await newMeeting({ ClientRequestToken: 'retry-token-2' });
    expect(second.MeetingId).toBe(first.MeetingId);
    expect(other.MeetingId).not.toBe(first.MeetingId);
    // Without a token the SDK generates a fresh one per call, so every call is a new meeting.
    const a = await newMeeting();
    const b = await newMeeting();
    expect(a.MeetingId).not.toBe(b.MeetingId);
  });

  it.each([
    ['too short', 'a'],
    ['too long', 'x'.repeat(65)],
    ['disallowed characters', 'bad<id>'],
    ['reserved aws: prefix', 'aws:mine'],
  ])('rejects an ExternalMeetingId that is %s', async (_label, value) => {
    const error = await failure(newMeeting({ ExternalMeetingId: value }));
    expect(error.name).toBe('BadRequestException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain('ExternalMeetingId');
  });

  it('rejects a bad MediaRegion, a bad ClientRequestToken and bad features', async () => {
    expect((await failure(newMeeting({ MediaRegion: 'mars' }))).message).toContain('MediaRegion');
    expect((await failure(newMeeting({ ClientRequestToken: 'has space' }))).message).toContain('ClientRequestToken');
    const features = await failure(newMeeting({ MeetingFeatures: { Attendee: { MaxCount: 251 } } }));
    expect(features.name).toBe('BadRequestException');
    expect(features.message).toContain('MaxCount');
  });

  it('answers unknown and malformed meeting ids precisely', async () => {
    const unknown = await failure(client.send(new GetMeetingCommand({ MeetingId: '00000000-0000-4000-8000-000000000000' })));
    expect(unknown.name).toBe('NotFoundException');
    const malformed = await failure(client.send(new GetMeetingCommand({ MeetingId: 'not-a-meeting' })));
    expect(malformed.name).toBe('BadRequestException');
  });

  it('says clearly that transcription is not available', async () => {
    const meeting = await newMeeting();
    const error = await failure(client.send(new StartMeetingTranscriptionCommand({ MeetingId: meeting.MeetingId, TranscriptionConfiguration: {} })));
    expect(error.name).toBe('BadRequestException');
    expect(error.message).toMatch(/not supported/);
  });
});

describe('attendees', () => {
  it('CreateAttendee returns a UUID, a subprotocol-safe token and default capabilities', async () => {
    const meeting = await newMeeting();
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'alice' }));
    expect(Attendee!.AttendeeId).toMatch(UUID);
    expect(Attendee!.ExternalUserId).toBe('alice');
    expect(Attendee!.JoinToken).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(Attendee!.Capabilities).toEqual({ Audio: 'SendReceive', Video: 'SendReceive', Content: 'SendReceive' });
  });

  it('treats ExternalUserId as the idempotency key within a meeting', async () => {
    const meeting = await newMeeting();
    const first = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'bob' }));
    const again = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'bob' }));
    expect(again.Attendee).toEqual(first.Attendee);
  });

  it('CreateMeetingWithAttendees creates both and reports per-attendee errors', async () => {
    const out = await client.send(new CreateMeetingWithAttendeesCommand({
      MediaRegion: 'eu-west-1',
      ExternalMeetingId: 'with-attendees',
      Attendees: [
        { ExternalUserId: 'carol' },
        { ExternalUserId: 'dave', Capabilities: { Audio: 'SendReceive', Video: 'None', Content: 'Receive' } },
      ],
    }));
    expect(out.Meeting!.MeetingId).toMatch(UUID);
    expect(out.Attendees!.map((a) => a.ExternalUserId)).toEqual(['carol']);
    expect(out.Errors).toEqual([expect.objectContaining({ ExternalUserId: 'dave', ErrorCode: 'BadRequest' })]);
  });

  it('GetAttendee, DeleteAttendee and the not-found cases', async () => {
    const meeting = await newMeeting();
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'erin' }));
    const got = await client.send(new GetAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: Attendee!.AttendeeId }));
    expect(got.Attendee).toEqual(Attendee);
    await client.send(new DeleteAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: Attendee!.AttendeeId }));
    const gone = await failure(client.send(new GetAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: Attendee!.AttendeeId })));
    expect(gone.name).toBe('NotFoundException');
    const twice = await failure(client.send(new DeleteAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: Attendee!.AttendeeId })));
    expect(twice.name).toBe('NotFoundException');
    const noMeeting = await failure(client.send(new CreateAttendeeCommand({ MeetingId: '00000000-0000-4000-8000-000000000001', ExternalUserId: 'x1' })));
    expect(noMeeting.name).toBe('NotFoundException');
  });

  it('validates ExternalUserId and capabilities', async () => {
    const meeting = await newMeeting();
    const short = await failure(client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'x' })));
    expect(short.name).toBe('BadRequestException');
    const badCaps = await failure(client.send(new CreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      ExternalUserId: 'frank',
      Capabilities: { Audio: 'SendReceive', Video: 'Send', Content: 'SendReceive' },
    })));
    expect(badCaps.name).toBe('BadRequestException');
    expect(badCaps.message).toMatch(/Content capability/);
  });

  it('allows 250 attendees and refuses the 251st with LimitExceededException', async () => {
    const meeting = await newMeeting();
    const batch = (from: number, count: number) =>
      client.send(new BatchCreateAttendeeCommand({
        MeetingId: meeting.MeetingId,
        Attendees: Array.from({ length: count }, (_, i) => ({ ExternalUserId: `user-${from + i}` })),
      }));
    const results = [await batch(0, 100), await batch(100, 100), await batch(200, 50)];
    const attendees = results.flatMap((r) => r.Attendees ?? []);
    expect(attendees).toHaveLength(250);
    expect(results.every((r) => r.Errors?.length === 0)).toBe(true);
    const tokens = new Set(attendees.map((a) => a.JoinToken));
    const ids = new Set(attendees.map((a) => a.AttendeeId));
    expect(tokens.size).toBe(250);
    expect(ids.size).toBe(250);

    const overflow = await failure(client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'user-250' })));
    expect(overflow.name).toBe('LimitExceededException');
    expect(overflow.$metadata.httpStatusCode).toBe(400);

    const partial = await batch(250, 2);
    expect(partial.Attendees).toEqual([]);
    expect(partial.Errors!.map((e) => e.ErrorCode)).toEqual(['ResourceLimitExceeded', 'ResourceLimitExceeded']);

    // Freeing a seat makes room for exactly one more.
    await client.send(new DeleteAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: attendees[0]!.AttendeeId }));
    await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'user-late' }));
    expect((await failure(client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'user-later' })))).name)
      .toBe('LimitExceededException');
  });

  it('honours MeetingFeatures.Attendee.MaxCount', async () => {
    const meeting = await newMeeting({ MeetingFeatures: { Attendee: { MaxCount: 2 } } });
    const out = await client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: [{ ExternalUserId: 'm1' }, { ExternalUserId: 'm2' }, { ExternalUserId: 'm3' }],
    }));
    expect(out.Attendees!.map((a) => a.ExternalUserId)).toEqual(['m1', 'm2']);
    expect(out.Errors).toEqual([expect.objectContaining({ ExternalUserId: 'm3', ErrorCode: 'ResourceLimitExceeded' })]);
  });

  it('refuses a BatchCreateAttendee of more than 100', async () => {
    const meeting = await newMeeting();
    const error = await failure(client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: Array.from({ length: 101 }, (_, i) => ({ ExternalUserId: `big-${i}` })),
    })));
    expect(error.name).toBe('BadRequestException');
    expect(error.message).toContain('between 1 and 100');
  });

  it('ListAttendees pages through every attendee exactly once', async () => {
    const meeting = await newMeeting();
    await client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: Array.from({ length: 23 }, (_, i) => ({ ExternalUserId: `page-${i}` })),
    }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListAttendeesCommand({ MeetingId: meeting.MeetingId, MaxResults: 7, NextToken: token }));
      expect(page.Attendees!.length).toBeLessThanOrEqual(7);
      seen.push(...page.Attendees!.map((a) => a.ExternalUserId!));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `page-${i}`));

    const bad = await failure(client.send(new ListAttendeesCommand({ MeetingId: meeting.MeetingId, NextToken: 'garbage' })));
    expect(bad.name).toBe('BadRequestException');
    const tooMany = await failure(client.send(new ListAttendeesCommand({ MeetingId: meeting.MeetingId, MaxResults: 101 })));
    expect(tooMany.name).toBe('BadRequestException');
  });
});

describe('capabilities', () => {
  it('UpdateAttendeeCapabilities changes one attendee and enforces the rules', async () => {
    const meeting = await newMeeting();
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'gina' }));
    const updated = await client.send(new UpdateAttendeeCapabilitiesCommand({
      MeetingId: meeting.MeetingId,
      AttendeeId: Attendee!.AttendeeId,
      Capabilities: { Audio: 'Receive', Video: 'Receive', Content: 'None' },
    }));
    expect(updated.Attendee!.Capabilities).toEqual({ Audio: 'Receive', Video: 'Receive', Content: 'None' });
    const got = await client.send(new GetAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: Attendee!.AttendeeId }));
    expect(got.Attendee!.Capabilities).toEqual(updated.Attendee!.Capabilities);

    const invalid = await failure(client.send(new UpdateAttendeeCapabilitiesCommand({
      MeetingId: meeting.MeetingId,
      AttendeeId: Attendee!.AttendeeId,
      Capabilities: { Audio: 'SendReceive', Video: 'None', Content: 'SendReceive' },
    })));
    expect(invalid.name).toBe('BadRequestException');
  });

  it('respects meeting features when defaulting and validating capabilities', async () => {
    const meeting = await newMeeting({ MeetingFeatures: { Video: { MaxResolution: 'None' } } });
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'hank' }));
    expect(Attendee!.Capabilities).toEqual({ Audio: 'SendReceive', Video: 'Receive', Content: 'SendReceive' });
    const error = await failure(client.send(new UpdateAttendeeCapabilitiesCommand({
      MeetingId: meeting.MeetingId,
      AttendeeId: Attendee!.AttendeeId,
      Capabilities: { Audio: 'SendReceive', Video: 'SendReceive', Content: 'SendReceive' },
    })));
    expect(error.name).toBe('BadRequestException');
    expect(error.message).toContain('MaxResolution None');
  });

  it('BatchUpdateAttendeeCapabilitiesExcept updates everyone but the excluded', async () => {
    const meeting = await newMeeting();
    const { Attendees } = await client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: [{ ExternalUserId: 'host' }, { ExternalUserId: 'guest-1' }, { ExternalUserId: 'guest-2' }],
    }));
    const [host, ...guests] = Attendees!;
    await client.send(new BatchUpdateAttendeeCapabilitiesExceptCommand({
      MeetingId: meeting.MeetingId,
      ExcludedAttendeeIds: [{ AttendeeId: host!.AttendeeId }],
      Capabilities: { Audio: 'Receive', Video: 'Receive', Content: 'Receive' },
    }));
    const list = await client.send(new ListAttendeesCommand({ MeetingId: meeting.MeetingId }));
    const byId = new Map(list.Attendees!.map((a) => [a.AttendeeId, a.Capabilities]));
    expect(byId.get(host!.AttendeeId)).toEqual({ Audio: 'SendReceive', Video: 'SendReceive', Content: 'SendReceive' });
    for (const guest of guests) expect(byId.get(guest.AttendeeId)).toEqual({ Audio: 'Receive', Video: 'Receive', Content: 'Receive' });
  });
});

describe('join tokens', () => {
  it('resolve to their attendee, accept #content, and are revoked by DeleteAttendee and DeleteMeeting', async () => {
    const meeting = await newMeeting();
    const { Attendees } = await client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: [{ ExternalUserId: 'ivy' }, { ExternalUserId: 'jack' }],
    }));
    const [ivy, jack] = Attendees!;
    const service = t.server.service;

    const identity = await service.resolveJoinToken(ivy!.JoinToken!);
    expect(identity?.attendee.AttendeeId).toBe(ivy!.AttendeeId);
    expect(identity?.meeting.MeetingId).toBe(meeting.MeetingId);
    expect(identity?.content).toBe(false);
    const content = await service.resolveJoinToken(`${ivy!.JoinToken}#content`);
    expect(content?.participantId).toBe(`${ivy!.AttendeeId}#content`);
    expect(content?.content).toBe(true);

    // A token that differs in one character is not anyone's.
    const last = ivy!.JoinToken!.at(-1) === 'A' ? 'B' : 'A';
    expect(await service.resolveJoinToken(ivy!.JoinToken!.slice(0, -1) + last)).toBeUndefined();
    expect(await service.resolveJoinToken('')).toBeUndefined();

    await client.send(new DeleteAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: ivy!.AttendeeId }));
    expect(await service.resolveJoinToken(ivy!.JoinToken!)).toBeUndefined();
    expect(await service.resolveJoinToken(`${ivy!.JoinToken}#content`)).toBeUndefined();
    expect(await service.resolveJoinToken(jack!.JoinToken!)).toBeDefined();

    await client.send(new DeleteMeetingCommand({ MeetingId: meeting.MeetingId }));
    expect(await service.resolveJoinToken(jack!.JoinToken!)).toBeUndefined();
  });

  it('content shares: at most 2 per meeting, and each counts as an attendee', async () => {
    const meeting = await newMeeting({ MeetingFeatures: { Attendee: { MaxCount: 4 } } });
    const { Attendees } = await client.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting.MeetingId,
      Attendees: [{ ExternalUserId: 'p1' }, { ExternalUserId: 'p2' }, { ExternalUserId: 'p3' }],
    }));
    const service = t.server.service;
    const [p1, p2] = Attendees!;
    await service.claimContentShare(meeting.MeetingId, p1!.AttendeeId!);
    // The 4th seat is now taken by p1's content share.
    expect((await failure(client.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'p4' })))).name)
      .toBe('LimitExceededException');
    await expect(service.claimContentShare(meeting.MeetingId, p2!.AttendeeId!)).rejects.toMatchObject({ name: 'LimitExceededException' });
    await service.releaseContentShare(meeting.MeetingId, p1!.AttendeeId!);
    await service.claimContentShare(meeting.MeetingId, p2!.AttendeeId!);

    const big = await newMeeting();
    const many = await client.send(new BatchCreateAttendeeCommand({
      MeetingId: big.MeetingId,
      Attendees: [{ ExternalUserId: 'q1' }, { ExternalUserId: 'q2' }, { ExternalUserId: 'q3' }],
    }));
    const [q1, q2, q3] = many.Attendees!;
    await service.claimContentShare(big.MeetingId, q1!.AttendeeId!);
    await service.claimContentShare(big.MeetingId, q2!.AttendeeId!);
    await expect(service.claimContentShare(big.MeetingId, q3!.AttendeeId!)).rejects.toThrow(/already has 2 content shares/);
  });
});
