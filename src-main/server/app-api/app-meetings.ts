import { randomBytes } from 'node:crypto';
import type { Attendee, AttendeeCapabilities, Meeting } from '../../shared/chime-types.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { badRequest, ChimeApiError, forbidden, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { AttemptLimiter } from './attempt-limiter.js';
import { generateHostKey, generateMeetingCode, hashHostKey, hashPasscode, hostKeyMatches, verifyPasscode, type PasscodeHash } from './secrets.js';

/**
 * App meetings: a Chime meeting plus what people need to find and join it
 * without API credentials — a short code, an optional passcode and a host key.
 * Everything else (attendees, tokens, quotas, lifecycle) stays in MeetingService.
 */

export interface AppMeetingSummary {
  meetingCode: string;
  name: string;
  attendees: number;
  passcodeRequired: boolean;
  startedAt: string;
}

export interface CreatedAppMeeting {
  meetingCode: string;
  meetingId: string;
  name: string;
  passcodeRequired: boolean;
  hostKey: string;
}

export interface JoinResult {
  Meeting: Meeting;
  Attendee: Attendee;
  isHost: boolean;
}

interface AppMeetingRecord {
  code: string;
  /** Undefined while a persistent meeting has no live Chime meeting (it ended idle); the next join starts one. */
  meetingId: string | undefined;
  persistent: boolean;
  name: string;
  passcode: PasscodeHash | undefined;
  hostKeyHash: Buffer;
  startedAt: number;
}

export interface AppMeetingsOptions {
  service: MeetingService;
  logger: Logger;
  now?: () => number;
  /** Live participants in a meeting (signaling presence), for the meeting list. */
  participantCount?: (meetingId: string) => number;
  /** Server-side mute of an attendee's live session, so a host mute takes effect at once. */
  muteLive?: (meetingId: string, attendeeId: string) => void;
  /** Failed passcodes allowed per client address, and per meeting, per window. */
  maxFailuresPerClient?: number;
  maxFailuresPerMeeting?: number;
  failureWindowMs?: number;
}

export const NAME_LIMITS = { min: 1, max: 64 } as const;
export const PASSCODE_LIMITS = { min: 4, max: 32 } as const;
/** Chime allows 64 characters of ExternalUserId; the app spends 7 on a uniqueness prefix. */
const EXTERNAL_USER_PREFIX_LENGTH = 7;

function checkText(field: string, value: unknown, limits: { min: number; max: number }, optional: boolean): string | undefined {
  if (value === undefined || value === null || (optional && value === '')) {
    if (optional) return undefined;
    throw badRequest(`${field} is required`);
  }
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  // Control characters have no place in a name shown to others or in a passcode.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw badRequest(`${field} contains control characters`);
  const length = [...value].length;
  if (length < limits.min || length > limits.max) throw badRequest(`${field} must be between ${limits.min} and ${limits.max} characters long`);
  return value;
}

/**
 * ExternalUserId is the attendee's idempotency key within a meeting, so two people
 * called "Alex" must not collide: a random 6-character prefix keeps them apart.
 * The renderer shows what follows the first `#`.
 */
export function externalUserIdFor(displayName: string): string {
  const prefix = randomBytes(6).toString('base64url').slice(0, EXTERNAL_USER_PREFIX_LENGTH - 1);
  const name = [...displayName.trim()].slice(0, 64 - EXTERNAL_USER_PREFIX_LENGTH).join('');
  return `${prefix}#${name}`;
}

export class AppMeetings {
  private readonly byCode = new Map<string, AppMeetingRecord>();
  private readonly codeByMeetingId = new Map<string, string>();
  private readonly clientFailures: AttemptLimiter;
  private readonly meetingFailures: AttemptLimiter;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: AppMeetingsOptions) {
    this.now = options.now ?? Date.now;
    const window = options.failureWindowMs ?? 60_000;
    this.clientFailures = new AttemptLimiter(options.maxFailuresPerClient ?? 10, window, this.now);
    this.meetingFailures = new AttemptLimiter(options.maxFailuresPerMeeting ?? 50, window, this.now);
    // A meeting that ends for any reason (host, API, idle expiry) takes its code with it.
    this.unsubscribe = options.service.events.on('meetingEnded', ({ meeting }) => {
      const code = this.codeByMeetingId.get(meeting.MeetingId);
      if (code === undefined) return;
      this.codeByMeetingId.delete(meeting.MeetingId);
      const record = this.byCode.get(code);
      if (record?.persistent) record.meetingId = undefined;
      else this.byCode.delete(code);
    });
  }

  /**
   * `persistent` (the operator's `--meeting`): the code outlives idle expiry and
   * "end for all"; the next join starts a fresh Chime meeting under it.
   */
  async create(body: { name?: unknown; passcode?: unknown }, persistent = false): Promise<CreatedAppMeeting> {
    const name = checkText('name', body.name, NAME_LIMITS, false)!.trim();
    if (name === '') throw badRequest('name must not be blank');
    const passcode = checkText('passcode', body.passcode, PASSCODE_LIMITS, true);
    let code = generateMeetingCode();
    while (this.byCode.has(code)) code = generateMeetingCode();
    const passcodeHash = passcode === undefined ? undefined : await hashPasscode(passcode);
    const hostKey = generateHostKey();
    const record: AppMeetingRecord = { code, meetingId: undefined, persistent, name, passcode: passcodeHash, hostKeyHash: hashHostKey(hostKey), startedAt: this.now() };
    const meetingId = await this.startChimeMeeting(record);
    this.byCode.set(code, record);
    this.options.logger.info('app_meeting_created', { meetingCode: code, meetingId, passcodeRequired: Boolean(passcodeHash), persistent });
    return { meetingCode: code, meetingId, name, passcodeRequired: Boolean(passcodeHash), hostKey };
  }

  private async startChimeMeeting(record: AppMeetingRecord): Promise<string> {
    const { meeting } = await this.options.service.createMeeting({
      MediaRegion: 'us-east-1',
      ExternalMeetingId: `chorus-app-${record.code}`,
      // Echo reduction would need a cloud model; the app uses the browser's own echo cancellation.
      MeetingFeatures: { Audio: { EchoReduction: 'UNAVAILABLE' } },
    });
    record.meetingId = meeting.MeetingId;
    record.startedAt = this.now();
    this.codeByMeetingId.set(meeting.MeetingId, record.code);
    return meeting.MeetingId;
  }

  list(): AppMeetingSummary[] {
    return [...this.byCode.values()]
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((r) => ({
        meetingCode: r.code,
        name: r.name,
        attendees: r.meetingId === undefined ? 0 : (this.options.participantCount?.(r.meetingId) ?? 0),
        passcodeRequired: Boolean(r.passcode),
        startedAt: new Date(r.startedAt).toISOString(),
      }));
  }

  describe(code: string): { meetingCode: string; name: string; passcodeRequired: boolean } {
    const record = this.require(code);
    return { meetingCode: record.code, name: record.name, passcodeRequired: Boolean(record.passcode) };
  }

  async join(code: string, body: { displayName?: unknown; passcode?: unknown; hostKey?: unknown }, clientKey: string): Promise<JoinResult> {
    const record = this.require(code);
    const displayName = checkText('displayName', body.displayName, NAME_LIMITS, false)!.trim();
    if (displayName === '') throw badRequest('displayName must not be blank');
    if (body.passcode !== undefined && body.passcode !== null && typeof body.passcode !== 'string') throw badRequest('passcode must be a string');
    if (body.hostKey !== undefined && body.hostKey !== null && typeof body.hostKey !== 'string') throw badRequest('hostKey must be a string');
    const isHost = typeof body.hostKey === 'string' && hostKeyMatches(body.hostKey, record.hostKeyHash);
    if (record.passcode && !isHost) {
      const meetingKey = `meeting:${record.code}`;
      if (this.clientFailures.blocked(clientKey) || this.meetingFailures.blocked(meetingKey)) {
        const retry = Math.max(this.clientFailures.retryAfterSeconds(clientKey), this.meetingFailures.retryAfterSeconds(meetingKey));
        throw new ChimeApiError('ThrottlingException', `Too many wrong passcodes; try again in ${retry} s`);
      }
      const passcode = typeof body.passcode === 'string' ? body.passcode : '';
      if (passcode === '' || !(await verifyPasscode(passcode, record.passcode))) {
        this.clientFailures.recordFailure(clientKey);
        this.meetingFailures.recordFailure(meetingKey);
        this.options.logger.info('app_join_refused', { meetingCode: record.code, reason: passcode === '' ? 'passcode-missing' : 'passcode-wrong' });
        throw forbidden(passcode === '' ? 'This meeting needs a passcode' : 'The passcode is not correct');
      }
    }
    // The meeting may have ended while the passcode was being checked.
    const current = this.require(code);
    const meetingId = current.meetingId ?? (await this.startChimeMeeting(current));
    const meeting = await this.options.service.getMeeting(meetingId);
    const attendee = await this.options.service.createAttendee(meetingId, { ExternalUserId: externalUserIdFor(displayName) });
    return { Meeting: meeting, Attendee: attendee, isHost };
  }

  async end(code: string, hostKey: string | undefined): Promise<void> {
    const record = this.requireHost(code, hostKey);
    if (record.meetingId !== undefined) await this.options.service.deleteMeeting(record.meetingId);
  }

  async removeAttendee(code: string, hostKey: string | undefined, attendeeId: string): Promise<void> {
    const meetingId = this.liveMeetingId(this.requireHost(code, hostKey));
    await this.options.service.deleteAttendee(meetingId, attendeeId);
  }

  /** Chime-style mute: the attendee may only receive audio from now on. */
  async muteAttendee(code: string, hostKey: string | undefined, attendeeId: string): Promise<void> {
    const meetingId = this.liveMeetingId(this.requireHost(code, hostKey));
    const attendee = await this.options.service.getAttendee(meetingId, attendeeId);
    const capabilities: AttendeeCapabilities = { ...attendee.Capabilities, Audio: 'Receive' };
    await this.options.service.updateAttendeeCapabilities(meetingId, attendeeId, capabilities);
    this.options.muteLive?.(meetingId, attendeeId);
  }

  close(): void {
    this.unsubscribe();
    this.byCode.clear();
    this.codeByMeetingId.clear();
  }

  private require(code: string): AppMeetingRecord {
    const record = this.byCode.get(code);
    if (!record) throw notFound(`No meeting with code ${code.slice(0, 32)}`);
    return record;
  }

  private liveMeetingId(record: AppMeetingRecord): string {
    if (record.meetingId === undefined) throw notFound(`Meeting ${record.code} has nobody in it right now`);
    return record.meetingId;
  }

  private requireHost(code: string, hostKey: string | undefined): AppMeetingRecord {
    const record = this.require(code);
    if (!hostKeyMatches(hostKey, record.hostKeyHash)) throw forbidden('Only the host can do this (X-Chorus-Host-Key is missing or wrong)');
    return record;
  }
}
