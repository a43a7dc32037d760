import { describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-clock.js';
import { AttemptLimiter, PasscodeGuard, type PasscodeTicket, type Throttled } from '../../src-main/server/app-api/attempt-limiter.js';
import { matchAppRoute } from '../../src-main/server/app-api/app-api-http.js';
import { AppMeetings, externalUserIdFor } from '../../src-main/server/app-api/app-meetings.js';
import { generateHostKey, generateMeetingCode, hashHostKey, hashPasscode, hostKeyMatches, verifyPasscode } from '../../src-main/server/app-api/secrets.js';
import { parseCliArgs } from '../../src-main/server/cli-args.js';
import { mediaPlacementFor } from '../../src-main/server/control-plane/media-placement.js';
import { DEFAULT_LIFECYCLE_TIMEOUTS } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { MeetingService } from '../../src-main/server/control-plane/meeting-service.js';
import { InMemoryMeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { resolveStaticPath } from '../../src-main/server/http/static-files.js';
import { createLogger } from '../../src-main/server/logger.js';
import { systemClock } from '../../src-main/server/runtime/clock.js';
import { MEETING_CODE_PATTERN } from '../../src-main/shared/invite-link.js';
import { isLobbyTicket, type JoinResponse, type JoinResult } from '../../src-main/shared/app-api.js';

const logger = createLogger({ level: 'error', write: () => undefined });

function setup(options: Partial<ConstructorParameters<typeof AppMeetings>[0]> = {}) {
  const service = new MeetingService({
    store: new InMemoryMeetingStore(),
    clock: systemClock,
    logger,
    placementFor: (id) => mediaPlacementFor('http://127.0.0.1:1', id),
    maxActiveMeetings: 3,
    lifecycle: DEFAULT_LIFECYCLE_TIMEOUTS,
  });
  const muted: string[] = [];
  const meetings = new AppMeetings({ service, logger, muteLive: (_m, a) => muted.push(a), ...options });
  return { service, meetings, muted };
}

/** A join that must get in at once (no lobby in these meetings). */
async function joined(response: Promise<JoinResponse>): Promise<JoinResult> {
  const r = await response;
  if (isLobbyTicket(r)) throw new Error('unexpected lobby ticket');
  return r;
}

async function rejects(promise: Promise<unknown>, exception: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ exception });
}

describe('app API secrets', () => {
  it('meeting codes match the shared pattern and differ', () => {
    const codes = new Set(Array.from({ length: 200 }, generateMeetingCode));
    for (const code of codes) expect(code).toMatch(MEETING_CODE_PATTERN);
    expect(codes.size).toBe(200);
  });

  it('passcodes are stored as salted scrypt hashes and verified exactly', async () => {
    const a = await hashPasscode('open sesame');
    const b = await hashPasscode('open sesame');
    expect(a.hash.equals(b.hash)).toBe(false);
    expect(a.hash.toString('utf8')).not.toContain('sesame');
    expect(await verifyPasscode('open sesame', a)).toBe(true);
    expect(await verifyPasscode('open sesame ', a)).toBe(false);
    expect(await verifyPasscode('Open sesame', a)).toBe(false);
  });

  it('host keys are 256-bit and checked by hash', () => {
    const key = generateHostKey();
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    const stored = hashHostKey(key);
    expect(hostKeyMatches(key, stored)).toBe(true);
    expect(hostKeyMatches(generateHostKey(), stored)).toBe(false);
    expect(hostKeyMatches(undefined, stored)).toBe(false);
    expect(hostKeyMatches('x'.repeat(500), stored)).toBe(false);
  });
});

describe('AttemptLimiter', () => {
  it('blocks after the allowed failures in the window and frees the key as they age out', () => {
    let now = 0;
    const limiter = new AttemptLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.blocked('ip')).toBe(false);
      limiter.recordFailure('ip');
      now += 1000;
    }
    expect(limiter.blocked('ip')).toBe(true);
    expect(limiter.blocked('other')).toBe(false);
    expect(limiter.retryAfterSeconds('ip')).toBe(57);
    now = 60_001;
    expect(limiter.blocked('ip')).toBe(false);
  });
});

describe('PasscodeGuard', () => {
  const limits = { maxFailuresPerAddress: 3, maxFailuresPerMeeting: 5, windowMs: 60_000, maxConcurrentPerAddress: 2, maxConcurrentPerMeeting: 3, maxQueuedPerMeeting: 1, maxQueueWaitMs: 1000 };
  const ticket = (t: PasscodeTicket | Throttled): PasscodeTicket => {
    if (!('settle' in t)) throw new Error(`throttled: ${t.message}`);
    return t;
  };
  it('counts a check when it starts: checks in flight use up the budget before their hash ends', async () => {
    const clock = new ManualClock();
    const guard = new PasscodeGuard(limits, clock);
    const a = ticket(await guard.acquire('ip1', 'm', false));
    const b = ticket(await guard.acquire('ip1', 'm', false));
    // A third at once is over the per-address concurrency.
    expect(await guard.acquire('ip1', 'm', false)).toMatchObject({ retryAfterSeconds: 1, message: expect.stringMatching(/at once/) });
    a.settle(false);
    b.settle(false);
    const c = ticket(await guard.acquire('ip1', 'm', false));
    // Two failures and one in flight: the fourth must wait for the window, whatever c turns out to be.
    expect(await guard.acquire('ip1', 'm', false)).toMatchObject({ message: expect.stringMatching(/Too many wrong passcodes/) });
    c.settle(true);
    ticket(await guard.acquire('ip1', 'm', false)).settle(false);
    const refused = (await guard.acquire('ip1', 'm', false)) as Throttled;
    expect(refused.retryAfterSeconds).toBe(60);
    clock.advance(60_001);
    ticket(await guard.acquire('ip1', 'm', false)).settle(true);
  });

  it('a meeting locked by guesses from many addresses still lets in addresses and devices it knows', async () => {
    const guard = new PasscodeGuard(limits, new ManualClock());
    for (const ip of ['a', 'b', 'c', 'd', 'e']) ticket(await guard.acquire(ip, 'm', false)).settle(false);
    expect('settle' in (await guard.acquire('newcomer', 'm', false))).toBe(false);
    expect('settle' in (await guard.acquire('regular', 'm', true))).toBe(true);
    // Another meeting is untouched.
    expect('settle' in (await guard.acquire('newcomer', 'other', false))).toBe(true);
  });

  it('past the meeting\'s checks at once, one more waits its turn; a full queue or a long wait is refused', async () => {
    const clock = new ManualClock();
    const guard = new PasscodeGuard(limits, clock);
    const running = await Promise.all(['a', 'b', 'c'].map(async (ip) => ticket(await guard.acquire(ip, 'm', false))));
    let waited: PasscodeTicket | Throttled | undefined;
    const queued = guard.acquire('d', 'm', false).then((t) => (waited = t));
    // The queue holds one: the next is refused at once.
    expect(await guard.acquire('e', 'm', false)).toMatchObject({ message: expect.stringMatching(/at once/) });
    await Promise.resolve();
    expect(waited).toBeUndefined();
    running[0]!.settle(true);
    await queued;
    const d = ticket(waited!);
    // Still three running (b, c, d): another waits, and gives up after maxQueueWaitMs.
    const late = guard.acquire('f', 'm', false);
    clock.advance(1000);
    expect(await late).toMatchObject({ message: expect.stringMatching(/at once/) });
    for (const t of [running[1]!, running[2]!, d]) t.settle(true);
    ticket(await guard.acquire('g', 'm', false)).settle(true);
  });
});

describe('AppMeetings', () => {
  it('creates a Chime meeting per code and joins attendees with unique ExternalUserIds carrying the name', async () => {
    const { service, meetings } = setup();
    const created = await meetings.create({ name: '  Weekly  ', passcode: 'abcd-efgh' });
    expect(created.name).toBe('Weekly');
    expect((await service.getMeeting(created.meetingId)).ExternalMeetingId).toBe(`chorus-app-${created.meetingCode}`);
    const one = await joined(meetings.join(created.meetingCode, { displayName: 'Zoë Ünal', passcode: 'abcd-efgh' }, 'c1'));
    const two = await joined(meetings.join(created.meetingCode, { displayName: 'Zoë Ünal', passcode: 'abcd-efgh' }, 'c1'));
    expect(one.Attendee.AttendeeId).not.toBe(two.Attendee.AttendeeId);
    expect(one.Attendee.ExternalUserId).toMatch(/^.{6}#Zoë Ünal$/);
    expect(one.Meeting.MeetingId).toBe(created.meetingId);
    expect(meetings.list()).toEqual([{ meetingCode: created.meetingCode, name: 'Weekly', attendees: 0, passcodeRequired: true, startedAt: expect.any(String) }]);
  });

  it('keeps ExternalUserId within Chime’s 64 characters for the longest names', () => {
    const id = externalUserIdFor('é'.repeat(64));
    expect([...id].length).toBeLessThanOrEqual(64);
  });

  it('validates names and passcodes precisely', async () => {
    const { meetings } = setup();
    await rejects(meetings.create({}), 'BadRequestException');
    await rejects(meetings.create({ name: '   ' }), 'BadRequestException');
    await rejects(meetings.create({ name: 'x'.repeat(65) }), 'BadRequestException');
    await rejects(meetings.create({ name: 'ok', passcode: 'abc' }), 'BadRequestException');
    await rejects(meetings.create({ name: 'ok', passcode: 42 }), 'BadRequestException');
    await rejects(meetings.create({ name: 'bad\u0007name' }), 'BadRequestException');
    const m = await meetings.create({ name: 'ok' });
    await rejects(meetings.join(m.meetingCode, { displayName: '' }, 'c'), 'BadRequestException');
    await rejects(meetings.join(m.meetingCode, { displayName: 'A', hostKey: 5 }, 'c'), 'BadRequestException');
    await rejects(meetings.join('nope', { displayName: 'A' }, 'c'), 'NotFoundException');
  });

  it('a browser joining again (the same deviceId) releases its earlier attendee once that is no longer connected', async () => {
    const connected = new Set<string>();
    const { service, meetings } = setup({ isConnected: (_m, a) => connected.has(a) });
    const m = await meetings.create({ name: 'Reloads' });
    const device = 'device-0000000000000001';
    const first = await joined(meetings.join(m.meetingCode, { displayName: 'A', deviceId: device }, 'c1'));
    connected.add(first.Attendee.AttendeeId);
    // A second tab while the first is connected: both stay.
    const second = await joined(meetings.join(m.meetingCode, { displayName: 'A', deviceId: device }, 'c1'));
    await expect(service.getAttendee(m.meetingId, first.Attendee.AttendeeId)).resolves.toBeDefined();
    // A reload: the old one is gone, so it makes way.
    connected.delete(first.Attendee.AttendeeId);
    connected.add(second.Attendee.AttendeeId);
    await joined(meetings.join(m.meetingCode, { displayName: 'A', deviceId: device }, 'c1'));
    await rejects(service.getAttendee(m.meetingId, first.Attendee.AttendeeId), 'NotFoundException');
    await expect(service.getAttendee(m.meetingId, second.Attendee.AttendeeId)).resolves.toBeDefined();
  });

  it('refuses wrong passcodes, then throttles the client and the meeting', async () => {
    const { meetings } = setup({ maxFailuresPerClient: 2, maxFailuresPerMeeting: 3 });
    const m = await meetings.create({ name: 'Locked', passcode: 'right-one' });
    await rejects(meetings.join(m.meetingCode, { displayName: 'A', passcode: 'wrong' }, 'c1'), 'ForbiddenException');
    await rejects(meetings.join(m.meetingCode, { displayName: 'A' }, 'c1'), 'ForbiddenException');
    await rejects(meetings.join(m.meetingCode, { displayName: 'A', passcode: 'right-one' }, 'c1'), 'ThrottlingException');
    // Another client still gets in, until the meeting's own budget is spent.
    expect((await joined(meetings.join(m.meetingCode, { displayName: 'B', passcode: 'right-one' }, 'c2'))).isHost).toBe(false);
    await rejects(meetings.join(m.meetingCode, { displayName: 'B', passcode: 'nope' }, 'c2'), 'ForbiddenException');
    await rejects(meetings.join(m.meetingCode, { displayName: 'C', passcode: 'right-one' }, 'c3'), 'ThrottlingException');
    // The host key is never throttled.
    expect((await joined(meetings.join(m.meetingCode, { displayName: 'H', hostKey: m.hostKey }, 'c1'))).isHost).toBe(true);
  });

  it('host actions need the host key; mute sets Audio to Receive and mutes the live session', async () => {
    const { service, meetings, muted } = setup();
    const m = await meetings.create({ name: 'Hosted' });
    const { Attendee } = await joined(meetings.join(m.meetingCode, { displayName: 'Bo' }, 'c'));
    await rejects(meetings.muteAttendee(m.meetingCode, undefined, Attendee.AttendeeId), 'ForbiddenException');
    await rejects(meetings.removeAttendee(m.meetingCode, 'wrong', Attendee.AttendeeId), 'ForbiddenException');
    await rejects(meetings.end(m.meetingCode, generateHostKey()), 'ForbiddenException');
    await meetings.muteAttendee(m.meetingCode, m.hostKey, Attendee.AttendeeId);
    expect((await service.getAttendee(m.meetingId, Attendee.AttendeeId)).Capabilities.Audio).toBe('Receive');
    expect(muted).toEqual([Attendee.AttendeeId]);
    await meetings.removeAttendee(m.meetingCode, m.hostKey, Attendee.AttendeeId);
    await rejects(service.getAttendee(m.meetingId, Attendee.AttendeeId), 'NotFoundException');
    await meetings.end(m.meetingCode, m.hostKey);
    await rejects(service.getMeeting(m.meetingId), 'NotFoundException');
    expect(() => meetings.describe(m.meetingCode)).toThrow(/No meeting/);
  });

  it('a code ends with its meeting, however it ends; a persistent one starts a new meeting on the next join', async () => {
    const { service, meetings } = setup();
    const once = await meetings.create({ name: 'Once' });
    await service.deleteMeeting(once.meetingId);
    expect(meetings.list().map((m) => m.meetingCode)).not.toContain(once.meetingCode);

    const standing = await meetings.create({ name: 'Standing' }, true);
    await meetings.end(standing.meetingCode, standing.hostKey);
    expect(meetings.describe(standing.meetingCode).name).toBe('Standing');
    const rejoined = await joined(meetings.join(standing.meetingCode, { displayName: 'Al' }, 'c'));
    expect(rejoined.Meeting.MeetingId).not.toBe(standing.meetingId);
    expect((await service.getMeeting(rejoined.Meeting.MeetingId)).ExternalMeetingId).toBe(`chorus-app-${standing.meetingCode}`);
  });

  it('passes the server meeting quota through as LimitExceededException', async () => {
    const { meetings } = setup();
    for (let i = 0; i < 3; i++) await meetings.create({ name: `m${i}` });
    await rejects(meetings.create({ name: 'one too many' }), 'LimitExceededException');
  });
});

describe('app API routes', () => {
  it('maps every route and refuses others', () => {
    expect(matchAppRoute('GET', '/app/api/server')).toEqual({ kind: 'route', route: { kind: 'server' } });
    expect(matchAppRoute('GET', '/app/api/meetings')).toEqual({ kind: 'route', route: { kind: 'list' } });
    expect(matchAppRoute('POST', '/app/api/meetings/')).toEqual({ kind: 'route', route: { kind: 'create' } });
    expect(matchAppRoute('GET', '/app/api/meetings/abc-defg-hij')).toEqual({ kind: 'route', route: { kind: 'describe', code: 'abc-defg-hij' } });
    expect(matchAppRoute('POST', '/app/api/meetings/abc-defg-hij/join')).toEqual({ kind: 'route', route: { kind: 'join', code: 'abc-defg-hij' } });
    expect(matchAppRoute('POST', '/app/api/meetings/c/attendees/a/mute')).toEqual({ kind: 'route', route: { kind: 'mute', code: 'c', attendeeId: 'a' } });
    expect(matchAppRoute('POST', '/app/api/meetings/c/attendees/a/remove')).toEqual({ kind: 'route', route: { kind: 'remove', code: 'c', attendeeId: 'a' } });
    expect(matchAppRoute('GET', '/app/api/meetings/c/join')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] });
    expect(matchAppRoute('PUT', '/app/api/meetings')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'POST'] });
    expect(matchAppRoute('GET', '/app/api/meetings/c/attendees/a/explode').kind).toBe('not-found');
    expect(matchAppRoute('GET', '/app/api/meetings/%2e%2e').kind).toBe('not-found');
  });
});

describe('static file paths', () => {
  const root = '/srv/renderer';
  it('maps / and /join/<code> to index.html and assets under the root', () => {
    expect(resolveStaticPath(root, '/')).toEqual({ kind: 'file', path: '/srv/renderer/index.html', spa: false });
    expect(resolveStaticPath(root, '/join/abc-defg-hij')).toEqual({ kind: 'file', path: '/srv/renderer/index.html', spa: true });
    expect(resolveStaticPath(root, '/assets/app-1.js')).toEqual({ kind: 'file', path: '/srv/renderer/assets/app-1.js', spa: false });
  });
  it('refuses traversal, encoded separators, dotfiles and NULs', () => {
    for (const p of ['/../etc/passwd', '/%2e%2e/x', '/assets/..%2f..%2fx', '/a\\..\\b', '/.git/config', '/x%00.js', '/%E0%A4%A', '/assets/./x']) {
      expect(resolveStaticPath(root, p), p).toEqual({ kind: 'refused' });
    }
  });
});

describe('server CLI: --meeting', () => {
  it('parses --meeting and --passcode, and refuses bad combinations', () => {
    expect(parseCliArgs(['--meeting', 'Team sync', '--passcode', 'abcd', '--unlisted'], {}).meeting).toEqual({ name: 'Team sync', passcode: 'abcd' });
    expect(parseCliArgs(['--meeting', 'Team sync', '--passcode', 'abcd', '--unlisted'], {}).config.unlisted).toBe(true);
    expect(parseCliArgs(['--max-joins-per-address', '200', '--max-web-meetings', '7'], {}).config).toMatchObject({ appLimits: { joinsPerAddress: 200 }, maxWebHostedMeetings: 7 });
    // Listed meetings (the default) are guarded by their passcode alone: 8 characters at least.
    expect(() => parseCliArgs(['--meeting', 'Team sync', '--passcode', 'abcd'], {})).toThrow(/at least 8 characters/);
    expect(parseCliArgs(['--meeting', 'Team sync', '--passcode', 'abcd-efgh'], {}).meeting).toEqual({ name: 'Team sync', passcode: 'abcd-efgh' });
    expect(parseCliArgs(['--meeting=Solo'], {}).meeting).toEqual({ name: 'Solo' });
    expect(parseCliArgs([], {}).meeting).toBeUndefined();
    expect(() => parseCliArgs(['--passcode', 'abcd'], {})).toThrow(/--passcode needs --meeting/);
    expect(() => parseCliArgs(['--meeting', 'x', '--passcode', 'abc'], {})).toThrow(/4 to 32/);
    expect(() => parseCliArgs(['--meeting', 'x'.repeat(65)], {})).toThrow(/64/);
    expect(parseCliArgs(['--allow-web-hosting'], {}).config.allowWebHosting).toBe(true);
    expect(parseCliArgs([], {}).config.allowWebHosting).toBe(false);
  });
});
