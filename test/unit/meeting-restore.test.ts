import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableDatabase } from '../../src-main/server/control-plane/durable-database.js';
import { openDurableMeetingStore, type DurableMeetingStore } from '../../src-main/server/control-plane/durable-meeting-store.js';
import { mediaPlacementFor } from '../../src-main/server/control-plane/media-placement.js';
import { MeetingService } from '../../src-main/server/control-plane/meeting-service.js';
import { ENDED_MEETINGS_KEPT, InMemoryMeetingStore, type MeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { MeetingEventSource, restoredPresence } from '../../src-main/server/events/event-sources.js';
import type { ChimeMeetingEvent } from '../../src-main/server/events/meeting-events.js';
import { createLogger } from '../../src-main/server/logger.js';
import type { Clock } from '../../src-main/server/runtime/clock.js';
import type { RoomActivityEvents } from '../../src-main/server/signaling/room-activity.js';
import type { Attendee, Meeting } from '../../src-main/shared/chime-types.js';
import { TypedEmitter } from '../../src-main/shared/typed-emitter.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { makeTempDir } from '../helpers/server.js';

/**
 * What survives a restart: the durable store reads back every meeting, attendee,
 * join-token hash and reported presence; the service takes the meetings over; the
 * event source finishes or continues each participant's story without repeats.
 */

const logger = createLogger({ level: 'error', write: () => undefined });
const dirs: string[] = [];
const stores: MeetingStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Lets expiries (which end meetings asynchronously) finish. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The clock of a run that has died: it reads the time, and its timers never fire. */
const deadRun = (clock: ManualClock): Clock => ({ now: () => clock.now(), monotonic: () => clock.monotonic(), setTimeout: () => 0, clearTimeout: () => undefined });

const LIFECYCLE = { noJoinMs: 5 * 60_000, emptyMs: 5 * 60_000, maxDurationMs: 3600_000 };

async function openStore(dir: string): Promise<DurableMeetingStore> {
  const store = await openDurableMeetingStore(dir, logger);
  stores.push(store);
  return store;
}

function serviceOn(store: MeetingStore, clock: Clock, port = 1): MeetingService {
  return new MeetingService({
    store,
    clock,
    logger,
    placementFor: (id) => mediaPlacementFor(`http://127.0.0.1:${port}`, id),
    maxActiveMeetings: 10,
    lifecycle: LIFECYCLE,
  });
}

async function meetingWith(service: MeetingService, ...names: string[]): Promise<{ meeting: Meeting; attendees: Attendee[] }> {
  const { meeting } = await service.createMeeting({ MediaRegion: 'us-east-1', ExternalMeetingId: 'restore' });
  const { attendees } = await service.createAttendees(meeting.MeetingId, names.map((ExternalUserId) => ({ ExternalUserId })));
  return { meeting, attendees };
}

describe('DurableMeetingStore', () => {
  it('reads back meetings, attendees, capabilities, content shares and presence, with join tokens stored only as hashes', async () => {
    const dir = await makeTempDir('chorus-store-');
    dirs.push(dir);
    const clock = new ManualClock();
    const first = await openStore(dir);
    const service = serviceOn(first, clock);
    const { meeting, attendees } = await meetingWith(service, 'ann', 'ben', 'cat');
    const [ann, ben, cat] = attendees as [Attendee, Attendee, Attendee];
    await service.updateAttendeeCapabilities(meeting.MeetingId, ben.AttendeeId, { Audio: 'Receive', Video: 'None', Content: 'None' });
    await service.claimContentShare(meeting.MeetingId, ann.AttendeeId);
    await service.deleteAttendee(meeting.MeetingId, cat.AttendeeId);
    service.participantJoined(meeting.MeetingId, ann.AttendeeId);
    await first.setPresence(meeting.MeetingId, ann.AttendeeId, { attendeeId: ann.AttendeeId, externalUserId: 'ann', content: false, video: true });
    const { meeting: gone } = await meetingWith(service, 'dan');
    await service.deleteMeeting(gone.MeetingId);
    // Closing the store is not closing the service: the service would end the meetings.
    await first.close();

    const bytes = readdirSync(join(dir, 'state-db')).map((f) => readFileSync(join(dir, 'state-db', f)).toString('latin1')).join('');
    expect(bytes).toContain(ann.AttendeeId);
    for (const a of attendees) expect(bytes).not.toContain(a.JoinToken);

    const second = await openStore(dir);
    expect((await second.listMeetings()).map((r) => r.meeting.MeetingId)).toEqual([meeting.MeetingId]);
    expect(await second.wasEnded(gone.MeetingId)).toBe(true);
    expect(await second.wasEnded(meeting.MeetingId)).toBe(false);
    const record = (await second.getMeeting(meeting.MeetingId))!;
    expect(record.contentShares).toEqual([ann.AttendeeId]);
    expect(record.everJoined).toBe(true);
    const page = await second.listAttendees(meeting.MeetingId, 0, 10);
    expect(page!.records.map((r) => r.attendee.ExternalUserId)).toEqual(['ann', 'ben']);
    expect(page!.records[1]!.attendee.Capabilities).toEqual({ Audio: 'Receive', Video: 'None', Content: 'None' });
    expect(page!.records.every((r) => r.joinToken === undefined)).toBe(true);
    expect((await second.reportedPresence()).get(meeting.MeetingId)?.get(ann.AttendeeId)).toMatchObject({ video: true });

    // The same tokens join as the same attendees; a new attendee continues the sequence.
    const restarted = serviceOn(second, clock);
    const identity = await restarted.resolveJoinToken(ann.JoinToken);
    expect(identity?.attendee.AttendeeId).toBe(ann.AttendeeId);
    expect((await restarted.resolveJoinToken(`${ben.JoinToken}#content`))?.participantId).toBe(`${ben.AttendeeId}#content`);
    expect(await restarted.resolveJoinToken(cat.JoinToken)).toBeUndefined();
    const eve = await restarted.createAttendee(meeting.MeetingId, { ExternalUserId: 'eve' });
    expect((await restarted.listAttendees(meeting.MeetingId, 0, 10)).attendees.map((a) => a.ExternalUserId)).toEqual(['ann', 'ben', 'eve']);
    // GetAttendee cannot show a token it only has the hash of; it shows the ones it issued.
    expect((await restarted.getAttendee(meeting.MeetingId, ann.AttendeeId)).JoinToken).toBeUndefined();
    expect((await restarted.getAttendee(meeting.MeetingId, eve.AttendeeId)).JoinToken).toBe(eve.JoinToken);

    // CreateAttendee is idempotent on ExternalUserId: a restored attendee gets a usable new token; the old one still works.
    const again = await restarted.createAttendee(meeting.MeetingId, { ExternalUserId: 'ann' });
    expect(again.AttendeeId).toBe(ann.AttendeeId);
    expect(again.JoinToken).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(again.JoinToken).not.toBe(ann.JoinToken);
    expect((await restarted.resolveJoinToken(again.JoinToken))?.attendee.AttendeeId).toBe(ann.AttendeeId);
    expect((await restarted.resolveJoinToken(ann.JoinToken))?.attendee.AttendeeId).toBe(ann.AttendeeId);
    expect((await restarted.createAttendee(meeting.MeetingId, { ExternalUserId: 'ann' })).JoinToken).toBe(again.JoinToken);
  });

  it('remembers the last 1,000 ended meetings across reopening, forgetting older ones', async () => {
    const dir = await makeTempDir('chorus-store-');
    dirs.push(dir);
    const clock = new ManualClock();
    const first = await openStore(dir);
    const service = serviceOn(first, clock);
    const ids: string[] = [];
    for (let i = 0; i < ENDED_MEETINGS_KEPT + 5; i++) {
      const { meeting } = await service.createMeeting({ MediaRegion: 'us-east-1', ExternalMeetingId: `ended-${i}` });
      await service.deleteMeeting(meeting.MeetingId);
      ids.push(meeting.MeetingId);
    }
    await first.close();
    const second = await openStore(dir);
    expect(await second.wasEnded(ids[4]!)).toBe(false);
    expect(await second.wasEnded(ids[5]!)).toBe(true);
    expect(await second.wasEnded(ids.at(-1)!)).toBe(true);
    await second.close();
    // The disk holds no more than that either.
    const db = await DurableDatabase.open(dir);
    expect(await db.entries('ended!')).toHaveLength(ENDED_MEETINGS_KEPT);
    await db.close();
  });

  it('a flush waits for writes queued behind the batch on disk, not only for that batch (an answered deletion survives kill -9)', async () => {
    const dir = await makeTempDir('chorus-store-');
    dirs.push(dir);
    const db = await DurableDatabase.open(dir);
    for (let round = 0; round < 20; round++) {
      const first = db.write([{ type: 'put', key: `k!${round}!a`, value: 'x'.repeat(10_000) }]);
      // Queued while the first batch is on disk, not awaited (as a removal is), then flushed.
      void db.write([{ type: 'put', key: `k!${round}!b`, value: 'y' }]);
      await db.write([]);
      expect((await db.entries(`k!${round}!`)).map(([key]) => key), `round ${round}`).toEqual([`k!${round}!a`, `k!${round}!b`]);
      await first;
    }
    await db.close();
  });

  it('refuses a second server on the same data directory with a clear error', async () => {
    const dir = await makeTempDir('chorus-store-');
    dirs.push(dir);
    await openStore(dir);
    await expect(DurableDatabase.open(dir)).rejects.toThrow(/Another Chorus server is using the data directory/);
  });
});

describe('MeetingService.restore', () => {
  it('ends meetings past their maximum duration with every deletion, and gives live ones their timers back', async () => {
    const clock = new ManualClock();
    const store = new InMemoryMeetingStore();
    const before = serviceOn(store, deadRun(clock));
    const { meeting: old } = await meetingWith(before, 'ann', 'ben');
    clock.advance(40 * 60_000);
    const { meeting: joined, attendees: [cat] } = await meetingWith(before, 'cat');
    before.participantJoined(joined.MeetingId, 'x');
    await before.claimContentShare(joined.MeetingId, cat!.AttendeeId);
    const { meeting: idle } = await meetingWith(before, 'dan');
    clock.advance(25 * 60_000); // `old` is now 65 minutes old, past the 60 minute maximum; `idle` was never joined

    const after = serviceOn(store, clock, 2);
    const seen: string[] = [];
    after.events.on('attendeeDeleted', ({ meeting, attendee, reason }) => seen.push(`deleted ${meeting.ExternalMeetingId}/${attendee.ExternalUserId} ${reason}`));
    after.events.on('meetingEnded', ({ meeting, reason }) => seen.push(`ended ${meeting.MeetingId === old.MeetingId ? 'old' : meeting.MeetingId === idle.MeetingId ? 'idle' : 'joined'} ${reason}`));
    expect(await after.restore()).toEqual({ restored: 2, ended: 1 });
    clock.advance(0);
    await settle();
    expect(seen).toEqual([
      'deleted restore/ann meeting-ended',
      'deleted restore/ben meeting-ended',
      'ended old max-duration',
      'deleted restore/dan meeting-ended',
      'ended idle no-attendee-joined',
    ]);
    // The content share's slot is free again until its sharer reconnects and claims it.
    expect((await store.getMeeting(joined.MeetingId))!.contentShares).toEqual([]);
    // The placement follows this run's address.
    expect((await after.getMeeting(joined.MeetingId)).MediaPlacement.SignalingUrl).toContain('127.0.0.1:2');
    // A meeting people were in waits the empty timeout, from the restart, for them to come back.
    clock.advance(LIFECYCLE.emptyMs - 1);
    await settle();
    expect(seen).toHaveLength(5);
    clock.advance(1);
    await settle();
    expect(seen.at(-1)).toBe('ended joined all-attendees-left');
    await after.close();
  });
});

describe('MeetingEventSource across a restart', () => {
  it('reports neither a second join nor a leave for who reconnects, and a drop for who does not', async () => {
    const clock = new ManualClock();
    const store = new InMemoryMeetingStore();
    const before = serviceOn(store, deadRun(clock));
    const activity = new TypedEmitter<RoomActivityEvents>();
    const firstRun = new MeetingEventSource({ service: before, activity, logger, presence: await restoredPresence(store, deadRun(clock), 120_000) });
    const { meeting, attendees } = await meetingWith(before, 'ann', 'ben', 'cat', 'dan');
    const [ann, ben, cat, dan] = attendees as [Attendee, Attendee, Attendee, Attendee];
    const subject = (a: Attendee, content = false) => ({ meeting, attendee: a, participantId: a.AttendeeId + (content ? '#content' : ''), content });
    for (const a of [ann, ben, dan]) activity.emit('joined', subject(a));
    activity.emit('videoStarted', subject(ann));
    activity.emit('videoStarted', subject(ben));
    activity.emit('joined', subject(cat, true));
    await store.flush();
    firstRun.close(); // the crash: nothing more is reported by this run

    const after = serviceOn(store, clock);
    const activity2 = new TypedEmitter<RoomActivityEvents>();
    const source = new MeetingEventSource({ service: after, activity: activity2, logger, presence: await restoredPresence(store, clock, 120_000) });
    const seen: string[] = [];
    const name = new Map(attendees.map((a) => [a.AttendeeId, a.ExternalUserId]));
    source.events.on('event', (e: ChimeMeetingEvent) => {
      const [id, content] = (e.detail.attendeeId ?? '').split('#');
      seen.push(`${e.detail.eventType.slice(6)}${id ? ` ${name.get(id)}${content ? '#content' : ''}` : ''}`);
    });
    await after.restore();

    // ann comes back and publishes again; ben comes back without video; cat's content share and dan do not.
    activity2.emit('authorized', subject(ann));
    activity2.emit('joined', subject(ann));
    activity2.emit('videoStarted', subject(ann));
    activity2.emit('joined', subject(ben));
    expect(seen).toEqual(['AttendeeAuthorized ann']);

    clock.advance(120_000);
    expect(seen.slice(1).sort()).toEqual(['AttendeeContentLeft cat#content', 'AttendeeDropped dan']);

    // Leaving now is reported once, with the video ben no longer sends reported stopped first.
    activity2.emit('left', { ...subject(ben), dropped: false });
    expect(seen.slice(3)).toEqual(['AttendeeVideoStopped ben', 'AttendeeLeft ben']);
    await after.deleteAttendee(meeting.MeetingId, dan.AttendeeId);
    expect(seen.at(-1)).toBe('AttendeeDeleted dan');
    await after.deleteMeeting(meeting.MeetingId);
    // ann is connected when the meeting ends: she leaves with it (as her room reports too, which no
    // room here does), then the deletions and the end.
    expect(seen.slice(6)).toEqual([
      'AttendeeVideoStopped ann',
      'AttendeeLeft ann',
      'AttendeeDeleted ann',
      'AttendeeDeleted ben',
      'AttendeeDeleted cat',
      'MeetingEnded',
    ]);
    expect((await store.reportedPresence()).size).toBe(0);
    source.close();
    await after.close();
  });

  it('reports a drop before the deletion of an attendee deleted before it reconnects, and before an expired meeting ends', async () => {
    const clock = new ManualClock();
    const store = new InMemoryMeetingStore();
    const before = serviceOn(store, deadRun(clock));
    const activity = new TypedEmitter<RoomActivityEvents>();
    const firstRun = new MeetingEventSource({ service: before, activity, logger, presence: await restoredPresence(store, deadRun(clock)) });
    const { meeting, attendees } = await meetingWith(before, 'ann', 'ben');
    for (const a of attendees) activity.emit('joined', { meeting, attendee: a, participantId: a.AttendeeId, content: false });
    firstRun.close();
    clock.advance(LIFECYCLE.maxDurationMs);

    const after = serviceOn(store, clock);
    const source = new MeetingEventSource({ service: after, activity: new TypedEmitter(), logger, presence: await restoredPresence(store, clock) });
    const seen: string[] = [];
    source.events.on('event', (e: ChimeMeetingEvent) => seen.push(`${e.detail.eventType.slice(6)} ${e.detail.externalUserId ?? ''}`.trim()));
    await after.deleteAttendee(meeting.MeetingId, attendees[0]!.AttendeeId);
    await after.restore();
    expect(seen).toEqual(['AttendeeDropped ann', 'AttendeeDeleted ann', 'AttendeeDropped ben', 'AttendeeDeleted ben', 'MeetingEnded']);
    source.close();
    await after.close();
  });
});
