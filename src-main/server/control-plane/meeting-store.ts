import type { Attendee, AttendeeCapabilities, Meeting } from '../../shared/chime-types.js';

/**
 * Persistence of meetings and attendees. Every method that checks a quota does
 * the check and the write as one step, so an implementation over a shared store
 * (Redis, SQL) must make them atomic too. Methods are async for that reason.
 */

export interface MeetingRecord {
  meeting: Meeting;
  clientRequestToken?: string;
  createdAt: number;
  /** The attendee quota for this meeting: MeetingFeatures.Attendee.MaxCount, capped by the service limit. */
  maxAttendees: number;
  /** Attendee ids whose content share (`<id>#content`) is live; they count toward maxAttendees. */
  contentShares: string[];
}

export interface AttendeeRecord {
  meetingId: string;
  attendee: Attendee;
  /** SHA-256 of the join token, hex; the lookup key for joins. */
  tokenHash: string;
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

export interface MeetingStore {
  /**
   * Inserts a meeting unless one with the same client request token exists (returns
   * that one) or `maxMeetings` active meetings exist already (returns 'limit-exceeded').
   */
  insertMeeting(record: MeetingRecord, maxMeetings: number): Promise<{ kind: 'created' | 'existing'; record: MeetingRecord } | { kind: 'limit-exceeded' }>;
  getMeeting(meetingId: string): Promise<MeetingRecord | undefined>;
  listMeetings(): Promise<MeetingRecord[]>;
  /** Removes the meeting and all its attendees, whose tokens stop resolving at once. */
  removeMeeting(meetingId: string): Promise<{ record: MeetingRecord; attendees: AttendeeRecord[] } | undefined>;

  /**
   * Inserts attendees in order. An ExternalUserId already in the meeting returns the
   * existing attendee (the service treats it as an idempotency key); a new attendee
   * beyond the meeting's quota gets 'limit-exceeded'. Returns undefined when the meeting does not exist.
   */
  insertAttendees(meetingId: string, attendees: NewAttendee[]): Promise<AttendeeInsertResult[] | undefined>;
  getAttendee(meetingId: string, attendeeId: string): Promise<AttendeeRecord | undefined>;
  listAttendees(meetingId: string, afterSeq: number, limit: number): Promise<AttendeePage | undefined>;
  removeAttendee(meetingId: string, attendeeId: string): Promise<AttendeeRecord | undefined>;
  updateCapabilities(meetingId: string, attendeeIds: 'all' | string[], except: string[], capabilities: AttendeeCapabilities): Promise<AttendeeRecord[] | undefined>;
  findAttendeeByTokenHash(tokenHash: string): Promise<AttendeeRecord | undefined>;

  /** Marks `attendeeId`'s content share live, within the meeting's content-share and attendee quotas. */
  addContentShare(meetingId: string, attendeeId: string, maxContentShares: number): Promise<'added' | 'already' | 'content-limit' | 'attendee-limit' | 'no-meeting'>;
  removeContentShare(meetingId: string, attendeeId: string): Promise<boolean>;
}

interface MeetingEntry {
  record: MeetingRecord;
  attendees: Map<string, AttendeeRecord>;
  byExternalUserId: Map<string, AttendeeRecord>;
  nextSeq: number;
}

export class InMemoryMeetingStore implements MeetingStore {
  private readonly meetings = new Map<string, MeetingEntry>();
  private readonly byClientRequestToken = new Map<string, string>();
  private readonly byTokenHash = new Map<string, AttendeeRecord>();

  async insertMeeting(record: MeetingRecord, maxMeetings: number) {
    const token = record.clientRequestToken;
    const existingId = token === undefined ? undefined : this.byClientRequestToken.get(token);
    const existing = existingId === undefined ? undefined : this.meetings.get(existingId);
    if (existing) return { kind: 'existing' as const, record: existing.record };
    if (this.meetings.size >= maxMeetings) return { kind: 'limit-exceeded' as const };
    this.meetings.set(record.meeting.MeetingId, { record, attendees: new Map(), byExternalUserId: new Map(), nextSeq: 1 });
    if (token !== undefined) this.byClientRequestToken.set(token, record.meeting.MeetingId);
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
    for (const attendee of entry.attendees.values()) this.byTokenHash.delete(attendee.tokenHash);
    return { record: entry.record, attendees: [...entry.attendees.values()] };
  }

  async insertAttendees(meetingId: string, attendees: NewAttendee[]) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    return attendees.map((candidate): AttendeeInsertResult => {
      const existing = entry.byExternalUserId.get(candidate.attendee.ExternalUserId);
      if (existing) return { kind: 'existing', record: existing };
      if (entry.attendees.size + entry.record.contentShares.length >= entry.record.maxAttendees) return { kind: 'limit-exceeded' };
      const record: AttendeeRecord = { ...candidate, seq: entry.nextSeq++ };
      entry.attendees.set(record.attendee.AttendeeId, record);
      entry.byExternalUserId.set(record.attendee.ExternalUserId, record);
      this.byTokenHash.set(record.tokenHash, record);
      return { kind: 'created', record };
    });
  }

  async getAttendee(meetingId: string, attendeeId: string) {
    return this.meetings.get(meetingId)?.attendees.get(attendeeId);
  }

  async listAttendees(meetingId: string, afterSeq: number, limit: number) {
    const entry = this.meetings.get(meetingId);
    if (!entry) return undefined;
    // Map iteration follows insertion order, which is seq order.
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
    this.byTokenHash.delete(record.tokenHash);
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
}
