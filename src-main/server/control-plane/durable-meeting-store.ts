import type { AttendeeCapabilities } from '../../shared/chime-types.js';
import type { Logger } from '../logger.js';
import { DurableDatabase, type WriteOp } from './durable-database.js';
import {
  InMemoryMeetingStore,
  type AttendeeRecord,
  type MeetingEntry,
  type MeetingRecord,
  type NewAttendee,
  type ReportedPresence,
} from './meeting-store.js';

/**
 * The MeetingStore the server runs on: the in-memory store for every lookup,
 * with each change written through to the durable database before the call
 * resolves (removals: by the next flush, see MeetingStore). On startup the
 * whole state is read back, so a restarted server knows every meeting, attendee
 * and join-token hash it knew before.
 *
 * Layout, one JSON value per key:
 *   meeting!<MeetingId>                            { record, nextSeq }
 *   attendee!<MeetingId>!<AttendeeId>              the AttendeeRecord without its join token
 *   presence!<MeetingId>!<ParticipantId>           ReportedPresence
 *   ended!<sequence, 16 digits>                    the MeetingId of an ended meeting (the newest ENDED_MEETINGS_KEPT)
 */

const FORMAT_KEY = 'format';
const FORMAT = '1';
const MEETING = 'meeting!';
const ATTENDEE = 'attendee!';
const PRESENCE = 'presence!';
const ENDED = 'ended!';

const meetingKey = (meetingId: string): string => `${MEETING}${meetingId}`;
const attendeeKey = (meetingId: string, attendeeId: string): string => `${ATTENDEE}${meetingId}!${attendeeId}`;
const presenceKey = (meetingId: string, participantId: string): string => `${PRESENCE}${meetingId}!${participantId}`;
const endedKey = (sequence: number): string => `${ENDED}${String(sequence).padStart(16, '0')}`;

interface StoredMeeting {
  record: MeetingRecord;
  nextSeq: number;
}

/** Opens the state database in `dataDir` and reads the meetings an earlier run left there. */
export async function openDurableMeetingStore(dataDir: string, logger: Logger): Promise<DurableMeetingStore> {
  const db = await DurableDatabase.open(dataDir);
  try {
    return await DurableMeetingStore.open(db, logger);
  } catch (error) {
    await db.close();
    throw error;
  }
}

export class DurableMeetingStore extends InMemoryMeetingStore {
  private closed = false;
  /** Key sequence of each remembered ended meeting, and the next one to use. */
  private readonly endedKeys = new Map<string, number>();
  private nextEnded = 0;

  private constructor(
    private readonly db: DurableDatabase,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Reads the state an earlier run left in `db`. Entries that do not parse are logged and skipped. */
  static async open(db: DurableDatabase, logger: Logger): Promise<DurableMeetingStore> {
    const store = new DurableMeetingStore(db, logger);
    const [format] = await db.entries(FORMAT_KEY);
    if (format && format[1] !== FORMAT) throw new Error(`${db.dir} holds state format ${format[1]}, not ${FORMAT}`);
    if (!format) await db.write([{ type: 'put', key: FORMAT_KEY, value: FORMAT }]);

    const attendees = new Map<string, AttendeeRecord[]>();
    for (const [key, value] of await db.entries(ATTENDEE)) {
      const record = parse<AttendeeRecord>(key, value, logger);
      if (!record) continue;
      const list = attendees.get(record.meetingId) ?? [];
      list.push(record);
      attendees.set(record.meetingId, list);
    }
    const presence = new Map<string, Map<string, ReportedPresence>>();
    for (const [key, value] of await db.entries(PRESENCE)) {
      const [meetingId, participantId] = key.slice(PRESENCE.length).split('!');
      const entry = parse<ReportedPresence>(key, value, logger);
      if (!entry || !meetingId || !participantId) continue;
      presence.set(meetingId, (presence.get(meetingId) ?? new Map()).set(participantId, entry));
    }
    for (const [key, meetingId] of await db.entries(ENDED)) {
      const sequence = Number(key.slice(ENDED.length));
      store.endedKeys.set(meetingId, sequence);
      store.nextEnded = Math.max(store.nextEnded, sequence + 1);
      store.rememberEnded(meetingId);
    }
    for (const [key, value] of await db.entries(MEETING)) {
      const stored = parse<StoredMeeting>(key, value, logger);
      if (!stored) continue;
      const id = stored.record.meeting.MeetingId;
      const list = (attendees.get(id) ?? []).sort((a, b) => a.seq - b.seq);
      store.load(stored.record, list, stored.nextSeq, presence.get(id) ?? new Map());
      attendees.delete(id);
      presence.delete(id);
    }
    // Leftovers of a meeting whose removal reached the disk only in part.
    const orphans: WriteOp[] = [
      ...[...attendees].flatMap(([meetingId, list]) => list.map((a) => ({ type: 'del' as const, key: attendeeKey(meetingId, a.attendee.AttendeeId) }))),
      ...[...presence].flatMap(([meetingId, map]) => [...map.keys()].map((pid) => ({ type: 'del' as const, key: presenceKey(meetingId, pid) }))),
    ];
    if (orphans.length > 0) await db.write(orphans);
    return store;
  }

  get meetingCount(): number {
    return this.meetings.size;
  }

  override async insertMeeting(record: MeetingRecord, maxMeetings: number) {
    const result = await super.insertMeeting(record, maxMeetings);
    if (result.kind === 'created') await this.persist([this.putMeeting(record.meeting.MeetingId)]);
    return result;
  }

  override async removeMeeting(meetingId: string) {
    const entry = this.meetings.get(meetingId);
    const presenceIds = entry ? [...entry.presence.keys()] : [];
    const removed = await super.removeMeeting(meetingId);
    if (removed) {
      this.persistLater([
        ...this.endedOps(meetingId),
        { type: 'del', key: meetingKey(meetingId) },
        ...removed.attendees.map((a) => ({ type: 'del' as const, key: attendeeKey(meetingId, a.attendee.AttendeeId) })),
        ...presenceIds.map((pid) => ({ type: 'del' as const, key: presenceKey(meetingId, pid) })),
      ]);
    }
    return removed;
  }

  protected override rememberEnded(meetingId: string): string | undefined {
    const dropped = super.rememberEnded(meetingId);
    if (dropped !== undefined) this.droppedEnded.push(dropped);
    return dropped;
  }

  private readonly droppedEnded: string[] = [];

  /** The tombstone of a meeting that just ended, and the removal of one that no longer fits. */
  private endedOps(meetingId: string): WriteOp[] {
    const sequence = this.nextEnded++;
    this.endedKeys.set(meetingId, sequence);
    const ops: WriteOp[] = [{ type: 'put', key: endedKey(sequence), value: meetingId }];
    for (const dropped of this.droppedEnded.splice(0)) {
      const key = this.endedKeys.get(dropped);
      this.endedKeys.delete(dropped);
      if (key !== undefined) ops.push({ type: 'del', key: endedKey(key) });
    }
    return ops;
  }

  override async markJoined(meetingId: string) {
    const entry = this.meetings.get(meetingId);
    if (!entry || entry.record.everJoined) return;
    await super.markJoined(meetingId);
    await this.persist([this.putMeeting(meetingId)]);
  }

  override async insertAttendees(meetingId: string, attendees: NewAttendee[]) {
    const results = await super.insertAttendees(meetingId, attendees);
    const created = (results ?? []).flatMap((r) => (r.kind === 'created' ? [r.record] : []));
    if (created.length > 0) await this.persist([...created.map((r) => putAttendee(r)), this.putMeeting(meetingId)]);
    return results;
  }

  override async removeAttendee(meetingId: string, attendeeId: string) {
    const removed = await super.removeAttendee(meetingId, attendeeId);
    if (removed) this.persistLater([{ type: 'del', key: attendeeKey(meetingId, attendeeId) }, this.putMeeting(meetingId)]);
    return removed;
  }

  override async updateCapabilities(meetingId: string, attendeeIds: 'all' | string[], except: string[], capabilities: AttendeeCapabilities) {
    const updated = await super.updateCapabilities(meetingId, attendeeIds, except, capabilities);
    if (updated && updated.length > 0) await this.persist(updated.map((r) => putAttendee(r)));
    return updated;
  }

  override async addJoinToken(meetingId: string, attendeeId: string, tokenHash: string, token: string) {
    const record = await super.addJoinToken(meetingId, attendeeId, tokenHash, token);
    if (record) await this.persist([putAttendee(record)]);
    return record;
  }

  override async addContentShare(meetingId: string, attendeeId: string, maxContentShares: number) {
    const result = await super.addContentShare(meetingId, attendeeId, maxContentShares);
    if (result === 'added') await this.persist([this.putMeeting(meetingId)]);
    return result;
  }

  override async removeContentShare(meetingId: string, attendeeId: string) {
    const removed = await super.removeContentShare(meetingId, attendeeId);
    if (removed) await this.persist([this.putMeeting(meetingId)]);
    return removed;
  }

  override async setPresence(meetingId: string, participantId: string, presence: ReportedPresence | undefined) {
    if (!this.meetings.has(meetingId)) return;
    await super.setPresence(meetingId, participantId, presence);
    const key = presenceKey(meetingId, participantId);
    await this.persist([presence ? { type: 'put', key, value: JSON.stringify(presence) } : { type: 'del', key }]);
  }

  override flush(): Promise<void> {
    return this.closed ? Promise.resolve() : this.db.write([]);
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private putMeeting(meetingId: string): WriteOp {
    const entry = this.meetings.get(meetingId) as MeetingEntry;
    const stored: StoredMeeting = { record: entry.record, nextSeq: entry.nextSeq };
    return { type: 'put', key: meetingKey(meetingId), value: JSON.stringify(stored) };
  }

  private persist(ops: WriteOp[]): Promise<void> {
    return this.db.write(ops);
  }

  /** For removals: queued now, in order with every other write; flush() waits for it. */
  private persistLater(ops: WriteOp[]): void {
    this.db.write(ops).catch((error: unknown) => this.logger.error('state_write_failed', { error }));
  }
}

function putAttendee(record: AttendeeRecord): WriteOp {
  // The token itself stays in memory: only its hashes reach the disk.
  const { joinToken: _token, ...stored } = record;
  return { type: 'put', key: attendeeKey(record.meetingId, record.attendee.AttendeeId), value: JSON.stringify(stored) };
}

function parse<T>(key: string, value: string, logger: Logger): T | undefined {
  try {
    return JSON.parse(value) as T;
  } catch (error) {
    logger.error('state_entry_unreadable', { key, error });
    return undefined;
  }
}
