import type { Attendee, AttendeeCapabilities, Meeting } from '../../shared/chime-types.js';

/**
 * Persistence of meetings and attendees. Every method that checks a quota does
 * the check and the write as one step, so an implementation over a shared store
 * (Redis, SQL) must make them atomic too. Methods are async for that reason.
 *
 * A change is durable when its promise resolves, except removals (meetings,
 * attendees), which resolve once lookups no longer find them and become durable
 * by the next `flush()`: the service reports a removal before making it durable,
 * so a crash in between can repeat an end but never lose one.
 */

export interface MeetingRecord {
  meeting: Meeting;
  clientRequestToken?: string;
  createdAt: number;
  /** The attendee quota for this meeting: MeetingFeatures.Attendee.MaxCount, capped by the service limit. */
  maxAttendees: number;
  /** Attendee ids whose content share (`<id>#content`) is live; they count toward maxAttendees. */
  contentShares: string[];
  /** Whether anyone has joined yet: after a restart it decides which idle timeout applies. */
  everJoined?: boolean;
}

/** An attendee as stored: everything but the join token, of which only hashes are kept. */
export type StoredAttendee = Omit<Attendee, 'JoinToken'>;

export interface AttendeeRecord {
  meetingId: string;
  attendee: StoredAttendee;
  /** SHA-256 (hex) of every join token that joins as this attendee: the lookup keys for joins. */
  tokenHashes: string[];
  /** The newest join token, while the process that issued it runs; it is never written to disk. */
  joinToken?: string;
  createdAt: number;
  /** Insertion order within the meeting; pagination cursors refer to it. */
  seq: number;
}

export type NewAttendee = Omit<AttendeeRecord, 'seq'>;

export type AttendeeInsertResult =
  | { kind: 'created'; record: AttendeeRecord }
  | { kind: 'existing'; record: AttendeeRecord }
  | { kind: 'limit-exceeded' };

export interface AttendeePage {
  records: AttendeeRecord[];
  /** The seq to continue after, when more remain. */
  nextAfterSeq?: number;
}

/**
 * What event notifications have told receivers about one participant (`<AttendeeId>`
 * or `<AttendeeId>#content`): that it joined, and whether its video is on. Kept with
 * the meeting so that after a restart the story can be finished (or continued) without
 * repeating or skipping an event.
 */
export interface ReportedPresence {
  attendeeId: string;
  externalUserId: string;
  content: boolean;
  video: boolean;
}

export interface MeetingStore {
  /**
   * Inserts a meeting unless one with the same client request token exists (returns
   * that one) or `maxMeetings` active meetings exist already (returns 'limit-exceeded').
   */
  insertMeeting(record: MeetingRecord, maxMeetings: number): Promise<{ kind: 'created' | 'existing'; record: MeetingRecord } | { kind: 'limit-exceeded' }>;
  getMeeting(meetingId: string): Promise<MeetingRecord | undefined>;
  listMeetings(): Promise<MeetingRecord[]>;
  /**
   * Removes the meeting, its attendees and its presence; tokens stop resolving at once, and
   * the meeting is remembered as ended (see wasEnded). Durable by the next flush().
   */
  removeMeeting(meetingId: string): Promise<{ record: MeetingRecord; attendees: AttendeeRecord[] } | undefined>;
  /** Whether the meeting existed and has ended, within the last ENDED_MEETINGS_KEPT endings: reconnecting clients are told so. */
  wasEnded(meetingId: string): Promise<boolean>;
  /** Records that someone has joined the meeting (MeetingRecord.everJoined). */
  markJoined(meetingId: string): Promise<void>;

  /**
   * Inserts attendees in order. An ExternalUserId already in the meeting returns the
   * existing attendee (the service treats it as an idempotency key); a new attendee
   * beyond the meeting's quota gets 'limit-exceeded'. Returns undefined when the meeting does not exist.
   */
  insertAttendees(meetingId: string, attendees: NewAttendee[]): Promise<AttendeeInsertResult[] | undefined>;
  getAttendee(meetingId: string, attendeeId: string): Promise<AttendeeRecord | undefined>;
  listAttendees(meetingId: string, afterSeq: number, limit: number): Promise<AttendeePage | undefined>;
  /** Removes the attendee; its tokens stop resolving at once. Durable by the next flush(). */
  removeAttendee(meetingId: string, attendeeId: string): Promise<AttendeeRecord | undefined>;
  updateCapabilities(meetingId: string, attendeeIds: 'all' | string[], except: string[], capabilities: AttendeeCapabilities): Promise<AttendeeRecord[] | undefined>;
  findAttendeeByTokenHash(tokenHash: string): Promise<AttendeeRecord | undefined>;
  /** Adds a join token for an existing attendee (one issued before a restart is known only by its hash). */
  addJoinToken(meetingId: string, attendeeId: string, tokenHash: string, token: string): Promise<AttendeeRecord | undefined>;

  /** Marks `attendeeId`'s content share live, within the meeting's content-share and attendee quotas. */
  addContentShare(meetingId: string, attendeeId: string, maxContentShares: number): Promise<'added' | 'already' | 'content-limit' | 'attendee-limit' | 'no-meeting'>;
  removeContentShare(meetingId: string, attendeeId: string): Promise<boolean>;

  /** Sets (or, with undefined, clears) what has been reported about a participant; ignored for an unknown meeting. */
  setPresence(meetingId: string, participantId: string, presence: ReportedPresence | undefined): Promise<void>;
  /** Everything reported and not yet cleared, by meeting and participant id. */
  reportedPresence(): Promise<Map<string, Map<string, ReportedPresence>>>;

  /** Resolves once every change made so far is durable. */
  flush(): Promise<void>;
  /** Waits for pending writes and releases the store. Idempotent. */
  close(): Promise<void>;
}

/** How many ended meeting ids are remembered. */
export const ENDED_MEETINGS_KEPT = 1000;

export interface MeetingEntry {
  record: MeetingRecord;
  attendees: Map<string, AttendeeRecord>;
  byExternalUserId: Map<string, AttendeeRecord>;
  nextSeq: number;
  presence: Map<string, ReportedPresence>;
}

export class InMemoryMeetingStore implements MeetingStore {
  protected readonly meetings = new Map<string, MeetingEntry>();
  private readonly byClientRequestToken = new Map<string, string>();
  private readonly byTokenHash = new Map<string, AttendeeRecord>();
  /** Ended meeting ids, oldest first. */
  protected readonly ended = new Set<string>();

  async insertMeeting(record: MeetingRecord, maxMeetings: number) {
    const token = record.clientRequestToken;
    const existingId = token === undefined ? undefined : this.byClientRequestToken.get(token);
    const existing = existingId === undefined ? undefined : this.meetings.get(existingId);
    if (existing) return { kind: 'existing' as const, record: existing.record };
    if (this.meetings.size >= maxMeetings) return { kind: 'limit-exceeded' as const };
    this.load(record, [], 1, new Map());
    return { kind: 'created' as const, record };
  }

  async getMeeting(meetingId: string) {
    return this.meetings.get(meetingId)?.record;
  }

  async listMeetings() {
    return [...this.meetings.values()].map((entry) => entry.record);
  }

  async removeMeeting(meetingId: string) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    this.meetings.delete(meetingId);
    const token = entry.record.clientRequestToken;
    if (token !== undefined && this.byClientRequestToken.get(token) === meetingId) this.byClientRequestToken.delete(token);
    for (const attendee of entry.attendees.values()) for (const hash of attendee.tokenHashes) this.byTokenHash.delete(hash);
    this.rememberEnded(meetingId);
    return { record: entry.record, attendees: [...entry.attendees.values()] };
  }

  async wasEnded(meetingId: string) {
    return this.ended.has(meetingId);
  }

  /** Returns the id that no longer fits, if any. */
  protected rememberEnded(meetingId: string): string | undefined {
    this.ended.add(meetingId);
    if (this.ended.size <= ENDED_MEETINGS_KEPT) return undefined;
    const oldest = this.ended.values().next().value!;
    this.ended.delete(oldest);
    return oldest;
  }

  async markJoined(meetingId: string) {
    const entry = this.meetings.get(meetingId);
    if (entry) entry.record.everJoined = true;
  }

  async insertAttendees(meetingId: string, attendees: NewAttendee[]) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    return attendees.map((candidate): AttendeeInsertResult => {
      const existing = entry.byExternalUserId.get(candidate.attendee.ExternalUserId);
      if (existing) return { kind: 'existing', record: existing };
      if (entry.attendees.size + entry.record.contentShares.length >= entry.record.maxAttendees) return { kind: 'limit-exceeded' };
      const record: AttendeeRecord = { ...candidate, seq: entry.nextSeq++ };
      this.index(entry, record);
      return { kind: 'created', record };
    });
  }

  async getAttendee(meetingId: string, attendeeId: string) {
    return this.meetings.get(meetingId)?.attendees.get(attendeeId);
  }

  async listAttendees(meetingId: string, afterSeq: number, limit: number) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    // Map iteration follows insertion order, which is seq order (a restored meeting is loaded in seq order).
    const records: AttendeeRecord[] = [];
    let more = false;
    for (const record of entry.attendees.values()) {
      if (record.seq <= afterSeq) continue;
      if (records.length === limit) {
        more = true;
        break;
      }
      records.push(record);
    }
    return { records, nextAfterSeq: more ? records[records.length - 1]?.seq : undefined };
  }

  async removeAttendee(meetingId: string, attendeeId: string) {
    const entry = this.meetings.get(meetingId);
    const record = entry?.attendees.get(attendeeId);
    if (!entry || !record) return undefined;
    entry.attendees.delete(attendeeId);
    entry.byExternalUserId.delete(record.attendee.ExternalUserId);
    for (const hash of record.tokenHashes) this.byTokenHash.delete(hash);
    entry.record.contentShares = entry.record.contentShares.filter((id) => id !== attendeeId);
    return record;
  }

  async updateCapabilities(meetingId: string, attendeeIds: 'all' | string[], except: string[], capabilities: AttendeeCapabilities) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    const excluded = new Set(except);
    const targets = attendeeIds === 'all' ? [...entry.attendees.keys()] : attendeeIds;
    const updated: AttendeeRecord[] = [];
    for (const id of targets) {
      const record = entry.attendees.get(id);
      if (!record || excluded.has(id)) continue;
      record.attendee = { ...record.attendee, Capabilities: { ...capabilities } };
      updated.push(record);
    }
    return updated;
  }

  async findAttendeeByTokenHash(tokenHash: string) {
    return this.byTokenHash.get(tokenHash);
  }

  async addJoinToken(meetingId: string, attendeeId: string, tokenHash: string, token: string) {
    const record = this.meetings.get(meetingId)?.attendees.get(attendeeId);
    if (!record) return undefined;
    record.tokenHashes = [...record.tokenHashes, tokenHash];
    record.joinToken = token;
    this.byTokenHash.set(tokenHash, record);
    return record;
  }

  async addContentShare(meetingId: string, attendeeId: string, maxContentShares: number) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return 'no-meeting' as const;
    const shares = entry.record.contentShares;
    if (shares.includes(attendeeId)) return 'already' as const;
    if (shares.length >= maxContentShares) return 'content-limit' as const;
    if (entry.attendees.size + shares.length >= entry.record.maxAttendees) return 'attendee-limit' as const;
    shares.push(attendeeId);
    return 'added' as const;
  }

  async removeContentShare(meetingId: string, attendeeId: string) {
    const entry = this.meetings.get(meetingId);
    if (!entry || !entry.record.contentShares.includes(attendeeId)) return false;
    entry.record.contentShares = entry.record.contentShares.filter((id) => id !== attendeeId);
    return true;
  }

  async setPresence(meetingId: string, participantId: string, presence: ReportedPresence | undefined) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return;
    if (presence) entry.presence.set(participantId, { ...presence });
    else entry.presence.delete(participantId);
  }

  async reportedPresence() {
    const out = new Map<string, Map<string, ReportedPresence>>();
    for (const [meetingId, entry] of this.meetings) {
      if (entry.presence.size > 0) out.set(meetingId, new Map([...entry.presence].map(([id, p]) => [id, { ...p }])));
    }
    return out;
  }

  async flush() {}

  async close() {}

  /** Puts a meeting with its attendees (in seq order) into the indexes: a new one, or one read back from disk. */
  protected load(record: MeetingRecord, attendees: AttendeeRecord[], nextSeq: number, presence: Map<string, ReportedPresence>): MeetingEntry {
    const entry: MeetingEntry = { record, attendees: new Map(), byExternalUserId: new Map(), nextSeq, presence };
    this.meetings.set(record.meeting.MeetingId, entry);
    if (record.clientRequestToken !== undefined) this.byClientRequestToken.set(record.clientRequestToken, record.meeting.MeetingId);
    for (const attendee of attendees) {
      this.index(entry, attendee);
      entry.nextSeq = Math.max(entry.nextSeq, attendee.seq + 1);
    }
    return entry;
  }

  private index(entry: MeetingEntry, record: AttendeeRecord): void {
    entry.attendees.set(record.attendee.AttendeeId, record);
    entry.byExternalUserId.set(record.attendee.ExternalUserId, record);
    for (const hash of record.tokenHashes) this.byTokenHash.set(hash, record);
  }
}
