import { describe, expect, it } from 'vitest';
import { AppMeetings, type Credentials } from '../../src-main/server/app-api/app-meetings.js';
import { matchAppRoute } from '../../src-main/server/app-api/app-api-http.js';
import { parseModerationAction } from '../../src-main/server/app-api/moderation.js';
import { mediaPlacementFor } from '../../src-main/server/control-plane/media-placement.js';
import { DEFAULT_LIFECYCLE_TIMEOUTS } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { MeetingService } from '../../src-main/server/control-plane/meeting-service.js';
import { InMemoryMeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { createLogger } from '../../src-main/server/logger.js';
import type { Clock } from '../../src-main/server/runtime/clock.js';
import { isLobbyTicket, LIVE_GONE_AFTER_MS, LIVE_LOST_AFTER_MS, type JoinResponse, type JoinResult, type LiveState } from '../../src-main/shared/app-api.js';

/** The moderation side of the app API on the real MeetingService, with a clock the test moves. */

const logger = createLogger({ level: 'error', write: () => undefined });

/** Like test/helpers/manual-clock.ts, but yields between timers so the promise chains they start can run. */
class ManualClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time on, firing due timers in order (and the ones they schedule). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await Promise.resolve();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

function setup() {
  const clock = new ManualClock();
  const service = new MeetingService({
    store: new InMemoryMeetingStore(),
    clock,
    logger,
    placementFor: (id) => mediaPlacementFor('http://127.0.0.1:1', id),
    maxActiveMeetings: 5,
    lifecycle: DEFAULT_LIFECYCLE_TIMEOUTS,
  });
  const muted: string[] = [];
  // Every attendee in these tests counts as connected: none is released for being away.
  const meetings = new AppMeetings({ service, logger, clock, muteLive: (_m, a) => muted.push(a), isConnected: () => true });
  return { clock, service, meetings, muted };
}

const device = (n: number): string => `device-${String(n).padStart(12, '0')}`;
const as = (r: JoinResult): Credentials => ({ attendeeId: r.Attendee.AttendeeId, joinToken: r.Attendee.JoinToken });

async function joined(response: Promise<JoinResponse>): Promise<JoinResult> {
  const r = await response;
  if (isLobbyTicket(r)) throw new Error('unexpected lobby ticket');
  return r;
}

async function stateOf(meetings: AppMeetings, code: string, who: Credentials): Promise<LiveState> {
  const { state } = await meetings.live(code, who, { since: -1 });
  return state!;
}

async function rejects(promise: Promise<unknown>, match: Record<string, unknown>): Promise<void> {
  await expect(promise).rejects.toMatchObject(match);
}

describe('app API: live state', () => {
  it('answers at once when newer, holds otherwise, and wakes a held request on a change', async () => {
    const { clock, meetings } = setup();
    const m = await meetings.create({ name: 'Live' });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const guest = await joined(meetings.join(m.meetingCode, { displayName: 'Gus' }, 'c'));
    const first = await stateOf(meetings, m.meetingCode, as(guest));
    expect(first.self.role).toBe('guest');
    expect(first.roles).toEqual({ [host.Attendee.AttendeeId]: 'host' });
    expect(host.role).toBe('host');

    // Nothing new: the request is held, then answered without a state.
    let answered: unknown;
    void meetings.live(m.meetingCode, as(guest), { since: first.version }).then((r) => (answered = r));
    await clock.advance(0);
    await clock.advance(1_000);
    expect(answered).toBeUndefined();
    await clock.advance(1_600);
    expect(answered).toEqual({});

    // A change wakes a held request at once.
    answered = undefined;
    void meetings.live(m.meetingCode, as(host), { since: first.version }).then((r) => (answered = r));
    await clock.advance(10);
    expect(answered).toBeUndefined();
    await meetings.act(m.meetingCode, as(guest), { kind: 'raise-hand' });
    await clock.advance(0);
    expect((answered as { state: LiveState }).state.hands.map((h) => h.name)).toEqual(['Gus']);
  });

  it('needs valid attendee credentials', async () => {
    const { meetings } = setup();
    const m = await meetings.create({ name: 'Auth' });
    const guest = await joined(meetings.join(m.meetingCode, { displayName: 'Gus' }, 'c'));
    await rejects(meetings.live(m.meetingCode, {}, { since: 0 }), { exception: 'ForbiddenException' });
    await rejects(meetings.live(m.meetingCode, { attendeeId: guest.Attendee.AttendeeId, joinToken: 'nope' }, { since: 0 }), { reason: 'unknown-attendee' });
    await rejects(meetings.live(m.meetingCode, as(guest), { since: 'x' }), { exception: 'BadRequestException' });
    await rejects(meetings.live(m.meetingCode, as(guest), { since: 0, connection: 'splendid' }), { exception: 'BadRequestException' });
  });

  it('reports each app’s connection, marks an app that stops checking in as lost, and forgets it later', async () => {
    const { clock, meetings } = setup();
    const m = await meetings.create({ name: 'Net' });
    const a = await joined(meetings.join(m.meetingCode, { displayName: 'Al' }, 'c'));
    const b = await joined(meetings.join(m.meetingCode, { displayName: 'Bea' }, 'c'));
    await meetings.live(m.meetingCode, as(b), { since: -1, connection: 'poor' });
    await meetings.act(m.meetingCode, as(b), { kind: 'raise-hand' });
    expect((await stateOf(meetings, m.meetingCode, as(a))).connections).toEqual({ [b.Attendee.AttendeeId]: 'poor' });
    // Bea's app goes quiet while Al's keeps asking.
    for (let t = 0; t < LIVE_LOST_AFTER_MS + 2_000; t += 2_000) {
      await meetings.live(m.meetingCode, as(a), { since: -1, connection: 'good' });
      await clock.advance(2_000);
    }
    expect((await stateOf(meetings, m.meetingCode, as(a))).connections).toEqual({ [b.Attendee.AttendeeId]: 'lost' });
    // Back: its next report counts.
    await meetings.live(m.meetingCode, as(b), { since: -1, connection: 'good' });
    expect((await stateOf(meetings, m.meetingCode, as(a))).connections).toEqual({});
    // Gone for good: the hand goes with it.
    await clock.advance(LIVE_GONE_AFTER_MS + 2_000);
    const after = await stateOf(meetings, m.meetingCode, as(a));
    expect(after.hands).toEqual([]);
  });
});

describe('app API: hands, mute locks, roles', () => {
  it('keeps hands in raise order; a guest lowers only its own, a host any', async () => {
    const { meetings } = setup();
    const m = await meetings.create({ name: 'Hands' });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const [x, y, z] = [await joined(meetings.join(m.meetingCode, { displayName: 'X' }, 'c')), await joined(meetings.join(m.meetingCode, { displayName: 'Y' }, 'c')), await joined(meetings.join(m.meetingCode, { displayName: 'Z' }, 'c'))];
    for (const who of [y, x, z]) await meetings.act(m.meetingCode, as(who), { kind: 'raise-hand' });
    expect((await stateOf(meetings, m.meetingCode, as(x))).hands.map((h) => h.name)).toEqual(['Y', 'X', 'Z']);
    await rejects(meetings.act(m.meetingCode, as(x), { kind: 'lower-hand', attendeeId: y.Attendee.AttendeeId }), { reason: 'not-moderator' });
    await meetings.act(m.meetingCode, as(x), { kind: 'lower-hand', attendeeId: x.Attendee.AttendeeId });
    await meetings.act(m.meetingCode, as(host), { kind: 'lower-hand', attendeeId: y.Attendee.AttendeeId });
    // Raising again goes to the back of the queue.
    await meetings.act(m.meetingCode, as(x), { kind: 'raise-hand' });
    expect((await stateOf(meetings, m.meetingCode, as(x))).hands.map((h) => h.name)).toEqual(['Z', 'X']);
  });

  it('a host mute locks a guest (Audio Receive) until allowed; the lock survives a rejoin from the same device', async () => {
    const { service, meetings, muted } = setup();
    const m = await meetings.create({ name: 'Locks' });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const g = await joined(meetings.join(m.meetingCode, { displayName: 'Gus', deviceId: device(1) }, 'c'));
    await rejects(meetings.act(m.meetingCode, as(g), { kind: 'ask-unmute' }), { exception: 'BadRequestException' });
    await meetings.muteAttendee(m.meetingCode, as(host), g.Attendee.AttendeeId);
    expect(muted).toEqual([g.Attendee.AttendeeId]);
    expect((await service.getAttendee(m.meetingId, g.Attendee.AttendeeId)).Capabilities.Audio).toBe('Receive');
    const locked = await stateOf(meetings, m.meetingCode, as(g));
    expect(locked.self).toEqual({ role: 'guest', audioLocked: true, askedToUnmute: false });
    await meetings.act(m.meetingCode, as(g), { kind: 'ask-unmute' });
    expect((await stateOf(meetings, m.meetingCode, as(g))).self.askedToUnmute).toBe(true);
    // Only moderators see the requests.
    expect((await stateOf(meetings, m.meetingCode, as(g))).unmuteRequests).toEqual([]);
    expect((await stateOf(meetings, m.meetingCode, as(host))).unmuteRequests.map((r) => r.name)).toEqual(['Gus']);

    // Reloading does not shed the lock.
    const again = await joined(meetings.join(m.meetingCode, { displayName: 'Gus', deviceId: device(1) }, 'c'));
    expect(again.Attendee.Capabilities.Audio).toBe('Receive');
    expect((await stateOf(meetings, m.meetingCode, as(again))).self.audioLocked).toBe(true);

    await rejects(meetings.act(m.meetingCode, as(g), { kind: 'allow-unmute', attendeeId: again.Attendee.AttendeeId }), { reason: 'not-moderator' });
    await meetings.act(m.meetingCode, as(host), { kind: 'allow-unmute', attendeeId: g.Attendee.AttendeeId });
    expect((await service.getAttendee(m.meetingId, g.Attendee.AttendeeId)).Capabilities.Audio).toBe('SendReceive');
    const freed = await stateOf(meetings, m.meetingCode, as(host));
    expect(freed.audioLocked).toEqual([again.Attendee.AttendeeId]);
    expect(freed.unmuteRequests).toEqual([]);
  });

  it('a lock follows the real capability when the Chime API changes it', async () => {
    const { service, meetings } = setup();
    const m = await meetings.create({ name: 'API' });
    const g = await joined(meetings.join(m.meetingCode, { displayName: 'Gus' }, 'c'));
    await service.updateAttendeeCapabilities(m.meetingId, g.Attendee.AttendeeId, { Audio: 'None', Video: 'SendReceive', Content: 'SendReceive' });
    expect((await stateOf(meetings, m.meetingCode, as(g))).self.audioLocked).toBe(true);
  });

  it('mute all locks every guest, not the host or co-hosts; co-hosts moderate but do not act on each other or the host', async () => {
    const { service, meetings } = setup();
    const m = await meetings.create({ name: 'All' });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const co = await joined(meetings.join(m.meetingCode, { displayName: 'Cora', deviceId: device(2) }, 'c'));
    const co2 = await joined(meetings.join(m.meetingCode, { displayName: 'Cid' }, 'c'));
    const g1 = await joined(meetings.join(m.meetingCode, { displayName: 'G1' }, 'c'));
    const g2 = await joined(meetings.join(m.meetingCode, { displayName: 'G2' }, 'c'));
    await rejects(meetings.act(m.meetingCode, as(co), { kind: 'set-role', attendeeId: co.Attendee.AttendeeId, role: 'cohost' }), { reason: 'not-moderator' });
    await meetings.act(m.meetingCode, as(host), { kind: 'set-role', attendeeId: co.Attendee.AttendeeId, role: 'cohost' });
    await meetings.act(m.meetingCode, as(host), { kind: 'set-role', attendeeId: co2.Attendee.AttendeeId, role: 'cohost' });
    expect((await stateOf(meetings, m.meetingCode, as(g1))).roles).toEqual({ [host.Attendee.AttendeeId]: 'host', [co.Attendee.AttendeeId]: 'cohost', [co2.Attendee.AttendeeId]: 'cohost' });
    await meetings.act(m.meetingCode, as(co), { kind: 'mute-all' });
    const audio = async (r: JoinResult) => (await service.getAttendee(m.meetingId, r.Attendee.AttendeeId)).Capabilities.Audio;
    expect([await audio(host), await audio(co), await audio(co2), await audio(g1), await audio(g2)]).toEqual(['SendReceive', 'SendReceive', 'SendReceive', 'Receive', 'Receive']);
    await rejects(meetings.removeAttendee(m.meetingCode, as(co), host.Attendee.AttendeeId), { reason: 'not-moderator' });
    await rejects(meetings.removeAttendee(m.meetingCode, as(co), co2.Attendee.AttendeeId), { reason: 'not-moderator' });
    await rejects(meetings.end(m.meetingCode, as(co)), { reason: 'not-moderator' });
    await rejects(meetings.removeAttendee(m.meetingCode, as(g1), g2.Attendee.AttendeeId), { reason: 'not-moderator' });
    // The co-host role belongs to the device: it comes back after a reload.
    const back = await joined(meetings.join(m.meetingCode, { displayName: 'Cora', deviceId: device(2) }, 'c'));
    expect(back.role).toBe('cohost');
    await meetings.act(m.meetingCode, as(host), { kind: 'set-role', attendeeId: back.Attendee.AttendeeId, role: 'guest' });
    expect((await joined(meetings.join(m.meetingCode, { displayName: 'Cora', deviceId: device(2) }, 'c'))).role).toBe('guest');
  });

  it('removal bans the device until a moderator lifts the ban; bans are listed to moderators only', async () => {
    const { service, meetings } = setup();
    const m = await meetings.create({ name: 'Bans', passcode: 'pass-1-of-8' });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const g = await joined(meetings.join(m.meetingCode, { displayName: 'Gus', passcode: 'pass-1-of-8', deviceId: device(3) }, 'c'));
    const other = await joined(meetings.join(m.meetingCode, { displayName: 'Ole', passcode: 'pass-1-of-8' }, 'c'));
    await meetings.removeAttendee(m.meetingCode, as(host), g.Attendee.AttendeeId);
    await rejects(service.getAttendee(m.meetingId, g.Attendee.AttendeeId), { exception: 'NotFoundException' });
    // A wrong passcode is still just a wrong passcode; the right one meets the ban.
    await rejects(meetings.join(m.meetingCode, { displayName: 'Gus', passcode: 'nope', deviceId: device(3) }, 'c'), { reason: 'passcode-wrong' });
    await rejects(meetings.join(m.meetingCode, { displayName: 'Gus again', passcode: 'pass-1-of-8', deviceId: device(3) }, 'c'), { exception: 'ForbiddenException', reason: 'banned' });
    expect((await stateOf(meetings, m.meetingCode, as(other))).banned).toEqual([]);
    const [ban] = (await stateOf(meetings, m.meetingCode, as(host))).banned;
    expect(ban?.name).toBe('Gus');
    await meetings.act(m.meetingCode, as(host), { kind: 'lift-ban', banId: ban!.id });
    expect((await joined(meetings.join(m.meetingCode, { displayName: 'Gus', passcode: 'pass-1-of-8', deviceId: device(3) }, 'c'))).role).toBe('guest');
    await rejects(meetings.removeAttendee(m.meetingCode, as(host), '00000000-0000-4000-8000-000000000000'), { exception: 'NotFoundException' });
  });
});

describe('app API: lobby', () => {
  it('holds guests until admitted or denied; the host, co-hosts and admitted devices go straight in', async () => {
    const { clock, meetings } = setup();
    const m = await meetings.create({ name: 'Lobby', lobby: true });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    const ticketA = await meetings.join(m.meetingCode, { displayName: 'Ann', deviceId: device(4) }, 'c');
    const ticketB = await meetings.join(m.meetingCode, { displayName: 'Ben', deviceId: device(5) }, 'c');
    if (!isLobbyTicket(ticketA) || !isLobbyTicket(ticketB)) throw new Error('expected lobby tickets');
    const waiting = (await stateOf(meetings, m.meetingCode, as(host))).waiting;
    expect(waiting.map((w) => w.name)).toEqual(['Ann', 'Ben']);
    expect(JSON.stringify(waiting)).not.toContain(ticketA.ticket);

    // Ben asks and is told his place; the ask is held until a decision.
    let benAnswer: unknown;
    void meetings.lobbyWait(m.meetingCode, { ticket: ticketB.ticket }).then((r) => (benAnswer = r), (e: unknown) => (benAnswer = e));
    await clock.advance(20_000);
    expect(benAnswer).toEqual({ waiting: true, position: 2 });

    let annAnswer: unknown;
    void meetings.lobbyWait(m.meetingCode, { ticket: ticketA.ticket }).then((r) => (annAnswer = r));
    await clock.advance(100);
    await meetings.act(m.meetingCode, as(host), { kind: 'admit', entryId: waiting[0]!.id });
    await clock.advance(0);
    expect((annAnswer as JoinResult).Attendee.ExternalUserId).toMatch(/#Ann$/);
    // Asking again gives the same attendee, not a second one.
    expect(((await meetings.lobbyWait(m.meetingCode, { ticket: ticketA.ticket })) as JoinResult).Attendee.AttendeeId).toBe((annAnswer as JoinResult).Attendee.AttendeeId);
    // Once admitted, the device comes back without waiting.
    expect(isLobbyTicket(await meetings.join(m.meetingCode, { displayName: 'Ann', deviceId: device(4) }, 'c'))).toBe(false);

    await meetings.act(m.meetingCode, as(host), { kind: 'deny', entryId: waiting[1]!.id });
    await rejects(meetings.lobbyWait(m.meetingCode, { ticket: ticketB.ticket }), { exception: 'ForbiddenException', reason: 'denied' });
    await rejects(meetings.lobbyWait(m.meetingCode, { ticket: 'forged' }), { reason: 'lobby-gone' });
    const guest = (annAnswer as JoinResult);
    await rejects(meetings.act(m.meetingCode, as(guest), { kind: 'admit-all' }), { reason: 'not-moderator' });
    // Turning the lobby off lets new guests straight in.
    await meetings.act(m.meetingCode, as(host), { kind: 'set-lobby', enabled: false });
    expect(isLobbyTicket(await meetings.join(m.meetingCode, { displayName: 'Cy' }, 'c'))).toBe(false);
  });

  it('drops a guest who stops asking, and tells the waiting ones when the meeting ends', async () => {
    const { clock, meetings } = setup();
    const m = await meetings.create({ name: 'Lobby', lobby: true });
    const host = await joined(meetings.join(m.meetingCode, { displayName: 'Hana', hostKey: m.hostKey }, 'c'));
    await meetings.join(m.meetingCode, { displayName: 'Quiet' }, 'c');
    const t = await meetings.join(m.meetingCode, { displayName: 'Keen' }, 'c');
    if (!isLobbyTicket(t)) throw new Error('expected a ticket');
    let keen: unknown;
    const ask = (): void => void meetings.lobbyWait(m.meetingCode, { ticket: t.ticket }).then((r) => (keen = r), (e: unknown) => (keen = e));
    ask();
    for (let i = 0; i < 3; i++) {
      await clock.advance(20_000);
      ask();
    }
    expect((await stateOf(meetings, m.meetingCode, as(host))).waiting.map((w) => w.name)).toEqual(['Keen']);
    await meetings.end(m.meetingCode, m.hostKey);
    await clock.advance(0);
    expect(keen).toMatchObject({ exception: 'NotFoundException', reason: 'lobby-gone' });
  });
});

describe('app API: actions and routes', () => {
  it('validates actions as a tagged union', () => {
    expect(parseModerationAction({ kind: 'raise-hand' })).toEqual({ kind: 'raise-hand' });
    expect(parseModerationAction({ kind: 'set-role', attendeeId: 'a', role: 'cohost' })).toEqual({ kind: 'set-role', attendeeId: 'a', role: 'cohost' });
    expect(() => parseModerationAction({ kind: 'set-role', attendeeId: 'a', role: 'host' })).toThrow(/role/);
    expect(() => parseModerationAction({ kind: 'explode' })).toThrow(/kind must be one of/);
    expect(() => parseModerationAction({ kind: 'admit', entryId: '../x' })).toThrow(/entryId/);
    expect(() => parseModerationAction([])).toThrow(/object/);
    expect(() => parseModerationAction({ kind: 'set-lobby', enabled: 'yes' })).toThrow(/enabled/);
  });

  it('routes the live, action and lobby endpoints', () => {
    expect(matchAppRoute('POST', '/app/api/meetings/c/live')).toEqual({ kind: 'route', route: { kind: 'live', code: 'c' } });
    expect(matchAppRoute('POST', '/app/api/meetings/c/actions')).toEqual({ kind: 'route', route: { kind: 'action', code: 'c' } });
    expect(matchAppRoute('POST', '/app/api/meetings/c/lobby/wait')).toEqual({ kind: 'route', route: { kind: 'lobby-wait', code: 'c' } });
    expect(matchAppRoute('POST', '/app/api/meetings/c/lobby/leave')).toEqual({ kind: 'route', route: { kind: 'lobby-leave', code: 'c' } });
    expect(matchAppRoute('GET', '/app/api/meetings/c/live')).toEqual({ kind: 'method-not-allowed', allowed: ['POST'] });
  });
});
