import { randomUUID } from 'node:crypto';
import {
  CONTENT_SUFFIX,
  MEETING_LIMITS,
  type Attendee,
  type AttendeeCapabilities,
  type CreateAttendeeError,
  type MediaPlacement,
  type Meeting,
} from '../../shared/chime-types.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { badRequest, ChimeApiError, ChorusError, limitExceeded, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import { generateJoinToken, hashJoinToken, joinTokenMatchesHash, parsePresentedToken } from './join-tokens.js';
import { MeetingLifecycle, type LifecycleTimeouts, type MeetingEndReason } from './meeting-lifecycle.js';
import type { AttendeeRecord, MeetingRecord, MeetingStore, NewAttendee, StoredAttendee } from './meeting-store.js';
import {
  checkCapabilitiesAgainstFeatures,
  defaultCapabilities,
  unsafeCharacter,
  type AttendeeRequest,
  type CreateMeetingInput,
} from './validation.js';

/**
 * An attendee as the API returns it. The join token is there whenever this process
 * issued it; an attendee read back after a restart is known by its token's hash only,
 * so GetAttendee and ListAttendees leave JoinToken out (Chime's model makes it optional).
 */
export type ApiAttendee = StoredAttendee & { JoinToken?: string };

export interface MeetingServiceEvents extends Record<string, unknown> {
  meetingCreated: { meeting: Meeting };
  /** First of a meeting's end: everyone in it is about to be deleted (then `attendeeDeleted` for each, then `meetingEnded`). */
  meetingEnding: { meeting: Meeting; reason: MeetingEndReason };
  meetingEnded: { meeting: Meeting; reason: MeetingEndReason };
  attendeeCreated: { meeting: Meeting; attendee: Attendee };
  attendeeDeleted: { meeting: Meeting; attendee: ApiAttendee; reason: 'deleted' | 'meeting-ended' };
  capabilitiesUpdated: { meeting: Meeting; attendees: ApiAttendee[] };
}

export interface MeetingServiceOptions {
  store: MeetingStore;
  clock: Clock;
  logger: Logger;
  placementFor: (meetingId: string) => MediaPlacement;
  maxActiveMeetings: number;
  /**
   * Meetings created from the web app without credentials (`--allow-web-hosting`) have
   * their own quota on top of maxActiveMeetings, so they never use up the API's (default 0).
   */
  maxWebHostedMeetings?: number;
  lifecycle: LifecycleTimeouts;
}

/** What a join token resolves to. */
export interface JoinIdentity {
  meeting: Meeting;
  attendee: Attendee;
  /** True for the attendee's content-share session, `<AttendeeId>#content`. */
  content: boolean;
  /** `<AttendeeId>` or `<AttendeeId>#content`. */
  participantId: string;
}

export interface CreateAttendeesOutcome {
  attendees: Attendee[];
  errors: CreateAttendeeError[];
}

const apiAttendee = (record: AttendeeRecord): ApiAttendee => ({
  ...record.attendee,
  Capabilities: { ...record.attendee.Capabilities },
  ...(record.joinToken !== undefined ? { JoinToken: record.joinToken } : {}),
});

/** For records that are known to carry their token (just created, or just given a new one). */
const attendeeWithToken = (record: AttendeeRecord, token: string): Attendee => ({ ...apiAttendee(record), JoinToken: token });

/**
 * The control plane's domain logic: meetings, attendees, quotas, join tokens and
 * lifecycle. Input arrives through methods and changes leave as typed events,
 * so signaling, notifications and tests can all observe the same facts.
 */
export class MeetingService {
  readonly events: TypedEmitter<MeetingServiceEvents>;
  private readonly lifecycle: MeetingLifecycle;
  private closed = false;
  /** Live meetings created with `webHosted`, and such creations under way. */
  private readonly webHosted = new Set<string>();
  private webHostedPending = 0;

  constructor(private readonly options: MeetingServiceOptions) {
    this.events = new TypedEmitter((error, event) => options.logger.error('listener_failed', { event: String(event), error }));
    this.lifecycle = new MeetingLifecycle(options.lifecycle, options.clock, (meetingId, reason) => {
      void this.endMeeting(meetingId, reason).catch((error: unknown) => options.logger.error('meeting_expiry_failed', { meetingId, error }));
    });
  }

  /**
   * CreateMeeting. `webHosted`: made from the web app without credentials, counted
   * against maxWebHostedMeetings rather than maxActiveMeetings.
   */
  async createMeeting(input: CreateMeetingInput, options: { webHosted?: boolean } = {}): Promise<{ meeting: Meeting; created: boolean }> {
    this.assertOpen();
    const web = options.webHosted === true;
    const maxWeb = this.options.maxWebHostedMeetings ?? 0;
    if (web && this.webHosted.size + this.webHostedPending >= maxWeb) {
      throw limitExceeded(`This server already hosts its limit of ${maxWeb} meetings started from the web app without credentials`);
    }
    if (web) this.webHostedPending++;
    try {
      const result = await this.insertNewMeeting(input, web ? this.options.maxActiveMeetings + maxWeb : this.options.maxActiveMeetings + this.webHosted.size);
      if (web && result.created) this.webHosted.add(result.meeting.MeetingId);
      return result;
    } finally {
      if (web) this.webHostedPending--;
    }
  }

  private async insertNewMeeting(input: CreateMeetingInput, cap: number): Promise<{ meeting: Meeting; created: boolean }> {
    if (input.PrimaryMeetingId !== undefined && !(await this.options.store.getMeeting(input.PrimaryMeetingId))) {
      throw notFound(`PrimaryMeetingId ${input.PrimaryMeetingId} does not exist`);
    }
    const meetingId = randomUUID();
    const now = this.options.clock.now();
    const meeting: Meeting = {
      MeetingId: meetingId,
      MeetingHostId: input.MeetingHostId,
      ExternalMeetingId: input.ExternalMeetingId,
      MediaRegion: input.MediaRegion,
      MediaPlacement: this.options.placementFor(meetingId),
      MeetingFeatures: input.MeetingFeatures,
      PrimaryMeetingId: input.PrimaryMeetingId,
      TenantIds: input.TenantIds,
      MeetingArn: `arn:aws:chime:${input.MediaRegion}:000000000000:meeting/${meetingId}`,
    };
    const maxAttendees = Math.min(input.MeetingFeatures?.Attendee?.MaxCount ?? MEETING_LIMITS.maxAttendees, MEETING_LIMITS.maxAttendees);
    const record: MeetingRecord = { meeting, clientRequestToken: input.ClientRequestToken, createdAt: now, maxAttendees, contentShares: [] };
    const result = await this.options.store.insertMeeting(record, cap);
    if (result.kind === 'limit-exceeded') {
      throw limitExceeded(`This server already hosts its limit of ${this.options.maxActiveMeetings} active meetings`);
    }
    if (result.kind === 'existing') return { meeting: result.record.meeting, created: false };
    this.lifecycle.track(meetingId, now);
    this.options.logger.info('meeting_created', { meetingId, region: meeting.MediaRegion });
    this.events.emit('meetingCreated', { meeting });
    return { meeting, created: true };
  }

  async getMeeting(meetingId: string): Promise<Meeting> {
    return (await this.requireMeeting(meetingId)).meeting;
  }

  async listMeetings(): Promise<Meeting[]> {
    return (await this.options.store.listMeetings()).map((record) => record.meeting);
  }

  async deleteMeeting(meetingId: string): Promise<void> {
    if (!(await this.endMeeting(meetingId, 'deleted'))) throw notFound(`Meeting ${meetingId} not found`);
  }

  async createAttendees(meetingId: string, requests: AttendeeRequest[]): Promise<CreateAttendeesOutcome> {
    this.assertOpen();
    const record = await this.requireMeeting(meetingId);
    const errors: CreateAttendeeError[] = [];
    const candidates: NewAttendee[] = [];
    const now = this.options.clock.now();
    for (const request of requests) {
      // The API's pattern already keeps these out; names from the app API (display names) arrive here unchecked.
      const unsafe = unsafeCharacter(request.ExternalUserId);
      if (unsafe) {
        errors.push({ ExternalUserId: request.ExternalUserId, ErrorCode: 'BadRequest', ErrorMessage: `The name contains ${unsafe}, a control or invisible formatting character` });
        continue;
      }
      let capabilities: AttendeeCapabilities;
      try {
        capabilities = request.Capabilities ?? defaultCapabilities(record.meeting.MeetingFeatures);
        checkCapabilitiesAgainstFeatures(capabilities, record.meeting.MeetingFeatures);
      } catch (error) {
        if (!(error instanceof ChimeApiError)) throw error;
        errors.push({ ExternalUserId: request.ExternalUserId, ErrorCode: error.code, ErrorMessage: error.message });
        continue;
      }
      const token = generateJoinToken();
      candidates.push({
        meetingId,
        attendee: { ExternalUserId: request.ExternalUserId, AttendeeId: randomUUID(), Capabilities: capabilities },
        tokenHashes: [hashJoinToken(token)],
        joinToken: token,
        createdAt: now,
      });
    }
    const results = (await this.options.store.insertAttendees(meetingId, candidates)) ?? [];
    if (results.length !== candidates.length) throw notFound(`Meeting ${meetingId} not found`);
    const attendees: Attendee[] = [];
    for (const [i, result] of results.entries()) {
      const candidate = candidates[i]!;
      if (result.kind === 'limit-exceeded') {
        errors.push({
          ExternalUserId: candidate.attendee.ExternalUserId,
          ErrorCode: 'ResourceLimitExceeded',
          ErrorMessage: `Meeting ${meetingId} has reached its limit of ${record.maxAttendees} attendees`,
        });
        continue;
      }
      if (result.kind === 'created') {
        attendees.push(attendeeWithToken(result.record, candidate.joinToken!));
        this.options.logger.info('attendee_created', { meetingId, attendeeId: result.record.attendee.AttendeeId });
        this.events.emit('attendeeCreated', { meeting: record.meeting, attendee: attendeeWithToken(result.record, candidate.joinToken!) });
        continue;
      }
      attendees.push(await this.tokenFor(result.record, candidate));
    }
    return { attendees, errors };
  }

  /**
   * The idempotent answer for an attendee that exists already: its token, or, when it was
   * issued before a restart (only its hash survives), a new one that joins as the same attendee.
   */
  private async tokenFor(record: AttendeeRecord, candidate: NewAttendee): Promise<Attendee> {
    if (record.joinToken !== undefined) return attendeeWithToken(record, record.joinToken);
    const token = candidate.joinToken!;
    const updated = await this.options.store.addJoinToken(record.meetingId, record.attendee.AttendeeId, candidate.tokenHashes[0]!, token);
    if (!updated) throw notFound(`Attendee ${record.attendee.AttendeeId} not found in meeting ${record.meetingId}`);
    this.options.logger.info('join_token_reissued', { meetingId: record.meetingId, attendeeId: record.attendee.AttendeeId });
    return attendeeWithToken(updated, token);
  }

  /** CreateAttendee: a single attendee, where a quota or rule failure is the whole call's error. */
  async createAttendee(meetingId: string, request: AttendeeRequest): Promise<Attendee> {
    const { attendees, errors } = await this.createAttendees(meetingId, [request]);
    const error = errors[0];
    if (error) {
      throw error.ErrorCode === 'ResourceLimitExceeded' ? limitExceeded(error.ErrorMessage) : badRequest(error.ErrorMessage);
    }
    return attendees[0]!;
  }

  async getAttendee(meetingId: string, attendeeId: string): Promise<ApiAttendee> {
    await this.requireMeeting(meetingId);
    const record = await this.options.store.getAttendee(meetingId, attendeeId);
    if (!record) throw notFound(`Attendee ${attendeeId} not found in meeting ${meetingId}`);
    return apiAttendee(record);
  }

  async listAttendees(meetingId: string, afterSeq: number, limit: number): Promise<{ attendees: ApiAttendee[]; nextAfterSeq?: number }> {
    await this.requireMeeting(meetingId);
    const page = await this.options.store.listAttendees(meetingId, afterSeq, limit);
    if (!page) throw notFound(`Meeting ${meetingId} not found`);
    return { attendees: page.records.map(apiAttendee), nextAfterSeq: page.nextAfterSeq };
  }

  async deleteAttendee(meetingId: string, attendeeId: string): Promise<void> {
    const record = await this.requireMeeting(meetingId);
    const removed = await this.options.store.removeAttendee(meetingId, attendeeId);
    if (!removed) throw notFound(`Attendee ${attendeeId} not found in meeting ${meetingId}`);
    this.options.logger.info('attendee_deleted', { meetingId, attendeeId });
    this.events.emit('attendeeDeleted', { meeting: record.meeting, attendee: apiAttendee(removed), reason: 'deleted' });
    // Reported before it is durable: a crash in between repeats the deletion rather than losing it.
    await this.persisted();
  }

  async updateAttendeeCapabilities(meetingId: string, attendeeId: string, capabilities: AttendeeCapabilities): Promise<ApiAttendee> {
    const record = await this.requireMeeting(meetingId);
    checkCapabilitiesAgainstFeatures(capabilities, record.meeting.MeetingFeatures);
    const updated = await this.options.store.updateCapabilities(meetingId, [attendeeId], [], capabilities);
    const attendee = updated?.[0];
    if (!attendee) throw notFound(`Attendee ${attendeeId} not found in meeting ${meetingId}`);
    this.events.emit('capabilitiesUpdated', { meeting: record.meeting, attendees: [apiAttendee(attendee)] });
    return apiAttendee(attendee);
  }

  async updateCapabilitiesExcept(meetingId: string, excludedAttendeeIds: string[], capabilities: AttendeeCapabilities): Promise<void> {
    const record = await this.requireMeeting(meetingId);
    checkCapabilitiesAgainstFeatures(capabilities, record.meeting.MeetingFeatures);
    const updated = (await this.options.store.updateCapabilities(meetingId, 'all', excludedAttendeeIds, capabilities)) ?? [];
    if (updated.length > 0) {
      this.events.emit('capabilitiesUpdated', { meeting: record.meeting, attendees: updated.map(apiAttendee) });
    }
  }

  /**
   * Resolves a presented join token (`<token>` or `<token>#content`) to its attendee.
   * Returns undefined for unknown, revoked or malformed tokens; the caller refuses the join.
   */
  async resolveJoinToken(presented: string): Promise<JoinIdentity | undefined> {
    if (this.closed || presented.length === 0 || presented.length > 256) return undefined;
    const { token, content } = parsePresentedToken(presented);
    const hash = hashJoinToken(token);
    const record: AttendeeRecord | undefined = await this.options.store.findAttendeeByTokenHash(hash);
    if (!record || !record.tokenHashes.some((stored) => joinTokenMatchesHash(token, stored))) return undefined;
    const meeting = await this.options.store.getMeeting(record.meetingId);
    if (!meeting) return undefined;
    const attendeeId = record.attendee.AttendeeId;
    return {
      meeting: meeting.meeting,
      // The presented token is the one this session joined with, whichever of the attendee's tokens it is.
      attendee: attendeeWithToken(record, token),
      content,
      participantId: content ? attendeeId + CONTENT_SUFFIX : attendeeId,
    };
  }

  /** Whether `meetingId` is a meeting that has ended (remembered across restarts), so a late join is told so. */
  async wasEnded(meetingId: string): Promise<boolean> {
    return this.options.store.wasEnded(meetingId);
  }

  /** Claims one of the meeting's content-share slots for `attendeeId`; throws LimitExceededException when none is free. */
  async claimContentShare(meetingId: string, attendeeId: string): Promise<void> {
    const result = await this.options.store.addContentShare(meetingId, attendeeId, MEETING_LIMITS.maxContentShares);
    switch (result) {
      case 'added':
      case 'already':
        return;
      case 'content-limit':
        throw limitExceeded(`Meeting ${meetingId} already has ${MEETING_LIMITS.maxContentShares} content shares`);
      case 'attendee-limit':
        throw limitExceeded(`Meeting ${meetingId} is full; a content share counts as an attendee`);
      case 'no-meeting':
        throw notFound(`Meeting ${meetingId} not found`);
      default: {
        const unreachable: never = result;
        throw new Error(`unexpected content share result ${String(unreachable)}`);
      }
    }
  }

  async releaseContentShare(meetingId: string, attendeeId: string): Promise<void> {
    await this.options.store.removeContentShare(meetingId, attendeeId);
  }

  /** Signaling reports presence here; it drives the idle-meeting expiry. */
  participantJoined(meetingId: string, participantId: string): void {
    const first = !this.lifecycle.everJoined(meetingId);
    this.lifecycle.joined(meetingId, participantId);
    if (first) {
      void this.options.store.markJoined(meetingId).catch((error: unknown) => this.options.logger.error('state_write_failed', { meetingId, error }));
    }
  }

  participantLeft(meetingId: string, participantId: string): void {
    this.lifecycle.left(meetingId, participantId);
  }

  /**
   * Takes over the meetings a previous run left in the store: each gets its media
   * placement for this run's address and its expiry timers back, so reconnecting
   * clients find it; one past its maximum duration is ended, with every event that
   * ending sends. Call once, after event notifications are listening.
   */
  async restore(): Promise<{ restored: number; ended: number }> {
    const now = this.options.clock.now();
    const expired: string[] = [];
    let restored = 0;
    // Every live meeting is tracked before any ending waits for the disk, so a client
    // reconnecting meanwhile is counted as present.
    for (const record of await this.options.store.listMeetings()) {
      const meetingId = record.meeting.MeetingId;
      record.meeting.MediaPlacement = this.options.placementFor(meetingId);
      if (now >= record.createdAt + this.options.lifecycle.maxDurationMs) {
        expired.push(meetingId);
        continue;
      }
      this.lifecycle.restore(meetingId, record.createdAt, record.everJoined ?? false);
      restored++;
    }
    // No content share survived the restart: a sharer that reconnects claims its slot again.
    for (const record of await this.options.store.listMeetings()) {
      for (const attendeeId of [...record.contentShares]) await this.options.store.removeContentShare(record.meeting.MeetingId, attendeeId);
    }
    let ended = 0;
    for (const meetingId of expired) if (await this.endMeeting(meetingId, 'max-duration')) ended++;
    if (restored + ended > 0) this.options.logger.info('meetings_restored', { restored, ended });
    return { restored, ended };
  }

  /** Ends every meeting and refuses further work. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const record of await this.options.store.listMeetings()) {
      await this.endMeeting(record.meeting.MeetingId, 'server-shutdown');
    }
    this.lifecycle.close();
  }

  private async endMeeting(meetingId: string, reason: MeetingEndReason): Promise<boolean> {
    this.lifecycle.forget(meetingId);
    this.webHosted.delete(meetingId);
    const removed = await this.options.store.removeMeeting(meetingId);
    if (!removed) return false;
    const meeting = removed.record.meeting;
    this.events.emit('meetingEnding', { meeting, reason });
    for (const attendee of removed.attendees) {
      this.events.emit('attendeeDeleted', { meeting, attendee: apiAttendee(attendee), reason: 'meeting-ended' });
    }
    this.options.logger.info('meeting_ended', { meetingId, reason });
    this.events.emit('meetingEnded', { meeting, reason });
    // Reported before it is durable: a crash in between ends the meeting again rather than never.
    await this.persisted();
    return true;
  }

  /** Waits for pending removals to reach the disk. A failure is logged: the removal has happened and been reported. */
  private async persisted(): Promise<void> {
    await this.options.store.flush().catch((error: unknown) => this.options.logger.error('state_write_failed', { error }));
  }

  private async requireMeeting(meetingId: string): Promise<MeetingRecord> {
    const record = await this.options.store.getMeeting(meetingId);
    if (!record) throw notFound(`Meeting ${meetingId} not found`);
    return record;
  }

  private assertOpen(): void {
    if (this.closed) throw new ChorusError('CLOSED', 'The meeting service is shutting down');
  }
}
