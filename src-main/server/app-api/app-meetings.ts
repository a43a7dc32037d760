import { randomBytes } from 'node:crypto';
import {
  CONNECTION_REPORTS,
  DEVICE_ID_PATTERN,
  LISTED_PASSCODE_MIN,
  LIVE_HOLD_MS,
  passcodeMinimum,
  LOBBY_HOLD_MS,
  NAME_LIMITS,
  PASSCODE_LIMITS,
  type CreatedMeeting,
  type JoinResponse,
  type JoinResult,
  type LiveResponse,
  type LobbyWaitResult,
  type MeetingDescription,
  type MeetingListing,
  type Role,
} from '../../shared/app-api.js';
import { MEETING_LIMITS, type AttendeeCapabilities } from '../../shared/chime-types.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { badRequest, ChimeApiError, forbidden, limitExceeded, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { refuse } from './app-errors.js';
import { DEFAULT_APP_LIMITS, DEFAULT_PASSCODE_LIMITS } from '../defaults.js';
import { AttemptLimiter, PasscodeGuard, type PasscodeLimits } from './attempt-limiter.js';
import { Lobby } from './lobby.js';
import { MeetingPeople, type Viewer } from './meeting-people.js';
import { applyModeration, parseModerationAction, type Actor, type ModerationContext } from './moderation.js';
import { generateHostKey, generateMeetingCode, hashHostKey, hashPasscode, hostKeyMatches, verifyPasscode, type PasscodeHash } from './secrets.js';

/**
 * App meetings: a Chime meeting plus what people need to find and join it
 * without API credentials — a short code, an optional passcode, a host key, a
 * lobby — and the moderation state around it (MeetingPeople). Attendees,
 * tokens, quotas and lifecycle stay in MeetingService.
 */

export { NAME_LIMITS, PASSCODE_LIMITS };
export type { CreatedMeeting, JoinResult };
export type AppMeetingSummary = MeetingListing;

interface AppMeetingRecord {
  code: string;
  /** Undefined while a persistent meeting has no live Chime meeting (it ended idle); the next join starts one. */
  meetingId: string | undefined;
  persistent: boolean;
  name: string;
  passcode: PasscodeHash | undefined;
  hostKeyHash: Buffer;
  startedAt: number;
  people: MeetingPeople;
  lobby: Lobby;
  /** Addresses and devices that got in (right passcode or host key): the meeting's guessing limit never locks them out. */
  known: Set<string>;
  /** Created without the bearer token: its Chime meetings count against the web-hosting quota. */
  webHosted: boolean;
  /** Attendees this API created in the current Chime meeting, released once they are gone (see AppLimits.releaseAfterMs). */
  created: Map<string, { deviceId: string | undefined; role: Role; lastConnected: number }>;
  /** Guests being created right now: they count against the guest places before they exist. */
  pendingGuests: number;
}

/** Quotas of what anyone may do without credentials. */
export interface AppLimits {
  /** Joins (without the host key) per client address per window; past it ThrottlingException. */
  joinsPerAddress: number;
  joinWindowMs: number;
  /** Meetings created without the bearer token (`--allow-web-hosting`) per client address per window. */
  webHostingPerAddress: number;
  webHostingWindowMs: number;
  /** Attendee slots of each meeting that joins without the host key cannot take: the host key always gets in. */
  hostReservedSlots: number;
  /** An attendee the app created that has not been connected for this long (left, dropped, or never came) is deleted, freeing its slot. */
  releaseAfterMs: number;
}

/** How many addresses and devices a meeting remembers as having got in. */
const MAX_KNOWN = 1000;

export interface AppMeetingsOptions {
  service: MeetingService;
  logger: Logger;
  clock?: Clock;
  /** Live participants in a meeting (signaling presence), for the meeting list. */
  participantCount?: (meetingId: string) => number;
  /** Server-side mute of an attendee's live session, so a host mute takes effect at once. */
  muteLive?: (meetingId: string, attendeeId: string) => void;
  /** Failed passcodes allowed per client address, and per meeting, per window (shorthands for passcodeLimits). */
  maxFailuresPerClient?: number;
  maxFailuresPerMeeting?: number;
  failureWindowMs?: number;
  /** Passcode guessing limits, merged over DEFAULT_PASSCODE_LIMITS. */
  passcodeLimits?: Partial<PasscodeLimits>;
  /** Whether meetings are listed to anyone (default true): a listed meeting's passcode needs LISTED_PASSCODE_MIN characters. */
  listed?: boolean;
  /** Quotas of anonymous joins and hosting, merged over DEFAULT_APP_LIMITS. */
  limits?: Partial<AppLimits>;
  /** Whether the attendee has a live signaling session now. */
  isConnected?: (meetingId: string, attendeeId: string) => boolean;
}

/** Who is asking: the host key, or an attendee's own credentials (checked against the JoinToken). */
export interface Credentials {
  hostKey?: string;
  attendeeId?: string;
  joinToken?: string;
}


/** Chime allows 64 characters of ExternalUserId; the app spends 7 on a uniqueness prefix. */
const EXTERNAL_USER_PREFIX_LENGTH = 7;
const SWEEP_MS = 1_000;
const sendsAudio = (caps: AttendeeCapabilities): boolean => caps.Audio === 'SendReceive' || caps.Audio === 'Send';

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

function checkDeviceId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !DEVICE_ID_PATTERN.test(value)) throw badRequest('deviceId must be 16 to 64 characters of A-Z, a-z, 0-9, _ or -');
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
  private readonly passcodes: PasscodeGuard;
  private readonly limits: AppLimits;
  private readonly joinAttempts: AttemptLimiter;
  private readonly webHostings: AttemptLimiter;
  private readonly clock: Clock;
  private readonly unsubscribe: (() => void)[] = [];
  private sweepTimer: unknown;
  private closed = false;

  constructor(private readonly options: AppMeetingsOptions) {
    this.clock = options.clock ?? systemClock;
    const limits: PasscodeLimits = { ...DEFAULT_PASSCODE_LIMITS, ...options.passcodeLimits };
    if (options.maxFailuresPerClient !== undefined) limits.maxFailuresPerAddress = options.maxFailuresPerClient;
    if (options.maxFailuresPerMeeting !== undefined) limits.maxFailuresPerMeeting = options.maxFailuresPerMeeting;
    if (options.failureWindowMs !== undefined) limits.windowMs = options.failureWindowMs;
    this.passcodes = new PasscodeGuard(limits, this.clock);
    this.limits = { ...DEFAULT_APP_LIMITS, ...options.limits };
    this.joinAttempts = new AttemptLimiter(this.limits.joinsPerAddress, this.limits.joinWindowMs, () => this.clock.now());
    this.webHostings = new AttemptLimiter(this.limits.webHostingPerAddress, this.limits.webHostingWindowMs, () => this.clock.now());
    const { events } = options.service;
    // A meeting that ends for any reason (host, API, idle expiry) takes its code with it.
    this.unsubscribe.push(
      events.on('meetingEnded', ({ meeting }) => {
        const code = this.codeByMeetingId.get(meeting.MeetingId);
        if (code === undefined) return;
        this.codeByMeetingId.delete(meeting.MeetingId);
        const record = this.byCode.get(code);
        if (!record) return;
        record.lobby.closeAll();
        record.created.clear();
        if (record.persistent) {
          record.meetingId = undefined;
          record.people.resetAttendees(this.clock.now());
        } else {
          this.byCode.delete(code);
          // Wakes held live requests, which then find the meeting gone.
          record.people.resetAttendees(this.clock.now());
        }
      }),
      // The lock follows the attendee's real Audio capability, whoever changed it.
      events.on('capabilitiesUpdated', ({ meeting, attendees }) => {
        const record = this.recordForMeeting(meeting.MeetingId);
        for (const attendee of attendees) record?.people.setAudioLocked(attendee.AttendeeId, !sendsAudio(attendee.Capabilities));
      }),
      events.on('attendeeDeleted', ({ meeting, attendee }) => {
        const record = this.recordForMeeting(meeting.MeetingId);
        record?.people.forget(attendee.AttendeeId);
        record?.created.delete(attendee.AttendeeId);
      }),
    );
    this.scheduleSweep();
  }

  /**
   * `persistent` (the operator's `--meeting`): the code outlives idle expiry and
   * "end for all"; the next join starts a fresh Chime meeting under it.
   */
  async create(body: { name?: unknown; passcode?: unknown; lobby?: unknown }, persistent = false, anonymous?: { clientKey: string }): Promise<CreatedMeeting> {
    if (anonymous) this.countAnonymousHosting(anonymous.clientKey);
    const name = checkText('name', body.name, NAME_LIMITS, false)!.trim();
    if (name === '') throw badRequest('name must not be blank');
    const passcode = checkText('passcode', body.passcode, PASSCODE_LIMITS, true);
    if (passcode !== undefined && [...passcode].length < passcodeMinimum(this.listed)) {
      throw badRequest(`passcode must be at least ${LISTED_PASSCODE_MIN} characters long: this server lists its meetings to anyone who can reach it (start it with --unlisted to allow ${PASSCODE_LIMITS.min})`);
    }
    if (body.lobby !== undefined && typeof body.lobby !== 'boolean') throw badRequest('lobby must be true or false');
    let code = generateMeetingCode();
    while (this.byCode.has(code)) code = generateMeetingCode();
    const passcodeHash = passcode === undefined ? undefined : await hashPasscode(passcode);
    const hostKey = generateHostKey();
    const now = this.clock.now();
    const people = new MeetingPeople(this.clock, body.lobby === true, now);
    const record: AppMeetingRecord = {
      code,
      meetingId: undefined,
      persistent,
      name,
      passcode: passcodeHash,
      hostKeyHash: hashHostKey(hostKey),
      startedAt: now,
      people,
      lobby: new Lobby(this.clock, () => people.touch()),
      known: new Set(),
      created: new Map(),
      pendingGuests: 0,
      webHosted: anonymous !== undefined,
    };
    const meetingId = await this.startChimeMeeting(record);
    this.byCode.set(code, record);
    this.options.logger.info('app_meeting_created', { meetingCode: code, meetingId, passcodeRequired: Boolean(passcodeHash), persistent, lobby: people.lobbyEnabled });
    return { meetingCode: code, meetingId, name, passcodeRequired: Boolean(passcodeHash), hostKey };
  }

  private async startChimeMeeting(record: AppMeetingRecord): Promise<string> {
    const { meeting } = await this.options.service.createMeeting({
      MediaRegion: 'us-east-1',
      ExternalMeetingId: `chorus-app-${record.code}`,
      // Echo reduction would need a cloud model; the app uses the browser's own echo cancellation.
      MeetingFeatures: { Audio: { EchoReduction: 'UNAVAILABLE' } },
    }, { webHosted: record.webHosted });
    record.meetingId = meeting.MeetingId;
    record.startedAt = this.clock.now();
    record.people.startedAt = record.startedAt;
    this.codeByMeetingId.set(meeting.MeetingId, record.code);
    return meeting.MeetingId;
  }

  /** Whether the meeting list is public (see `listed` in the options). */
  get listed(): boolean {
    return this.options.listed ?? true;
  }

  list(): MeetingListing[] {
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

  describe(code: string): MeetingDescription {
    const record = this.require(code);
    return { meetingCode: record.code, name: record.name, passcodeRequired: Boolean(record.passcode) };
  }

  /**
   * Joins, or (a guest of a meeting with a lobby) enters the lobby. The passcode
   * comes first, then the ban: a banned device learns it is banned only once it
   * has shown it knows the passcode.
   */
  async join(code: string, body: { displayName?: unknown; passcode?: unknown; hostKey?: unknown; deviceId?: unknown }, clientKey: string): Promise<JoinResponse> {
    const record = this.require(code);
    const displayName = checkText('displayName', body.displayName, NAME_LIMITS, false)!.trim();
    if (displayName === '') throw badRequest('displayName must not be blank');
    if (body.passcode !== undefined && body.passcode !== null && typeof body.passcode !== 'string') throw badRequest('passcode must be a string');
    if (body.hostKey !== undefined && body.hostKey !== null && typeof body.hostKey !== 'string') throw badRequest('hostKey must be a string');
    const deviceId = checkDeviceId(body.deviceId);
    const isHost = typeof body.hostKey === 'string' && hostKeyMatches(body.hostKey, record.hostKeyHash);
    if (!isHost) this.countJoin(record, clientKey);
    if (record.passcode && !isHost) await this.checkPasscode(record, body.passcode, clientKey, deviceId);
    else remember(record, clientKey, deviceId);
    // The meeting may have ended while the passcode was being checked.
    const current = this.require(code);
    if (!isHost && current.people.isBanned(deviceId)) {
      this.options.logger.info('app_join_refused', { meetingCode: record.code, reason: 'banned' });
      throw refuse('banned', 'You were removed from this meeting by the host and cannot rejoin unless they allow it');
    }
    const role: Role = isHost ? 'host' : 'guest';
    const cohost = !isHost && current.people.roleFor(deviceId) === 'cohost';
    if (current.people.lobbyEnabled && !isHost && !cohost && !current.people.wasAdmitted(deviceId)) {
      const { ticket } = current.lobby.enter(displayName, deviceId);
      this.options.logger.info('app_lobby_entered', { meetingCode: record.code });
      return { waiting: true, ticket };
    }
    return this.admit(current, displayName, deviceId, role);
  }

  private async checkPasscode(record: AppMeetingRecord, presented: unknown, clientKey: string, deviceId: string | undefined): Promise<void> {
    const known = record.known.has(`address:${clientKey}`) || (deviceId !== undefined && record.known.has(`device:${deviceId}`));
    const ticket = await this.passcodes.acquire(clientKey, record.code, known);
    if (!('settle' in ticket)) {
      this.options.logger.info('app_join_refused', { meetingCode: record.code, reason: 'passcode-throttled' });
      throw new ThrottledError(ticket.message, ticket.retryAfterSeconds);
    }
    const passcode = typeof presented === 'string' ? presented : '';
    let correct = false;
    try {
      correct = passcode !== '' && (await verifyPasscode(passcode, record.passcode!));
    } finally {
      ticket.settle(correct);
    }
    if (correct) {
      remember(record, clientKey, deviceId);
      return;
    }
    const reason = passcode === '' ? 'passcode-missing' : 'passcode-wrong';
    this.options.logger.info('app_join_refused', { meetingCode: record.code, reason });
    throw refuse(reason, passcode === '' ? 'This meeting needs a passcode' : 'The passcode is not correct');
  }

  /** Creates the attendee (locked if its device was), and records who it is. */
  private async admit(record: AppMeetingRecord, name: string, deviceId: string | undefined, role: Role): Promise<JoinResult> {
    const meetingId = record.meetingId ?? (await this.startChimeMeeting(record));
    const meeting = await this.options.service.getMeeting(meetingId);
    const locked = record.people.mustJoinLocked(deviceId, record.people.roleFor(deviceId) ?? role);
    // The same browser again (a reload): its earlier attendees that are no longer connected make way.
    if (deviceId !== undefined) {
      for (const [id, info] of record.created) {
        if (info.deviceId === deviceId && !this.connected(meetingId, id)) await this.release(record, meetingId, id, 'replaced');
      }
    }
    const guests = [...record.created.values()].filter((c) => c.role !== 'host').length + record.pendingGuests;
    if (role !== 'host' && guests >= MEETING_LIMITS.maxAttendees - this.limits.hostReservedSlots) {
      this.options.logger.info('app_join_refused', { meetingCode: record.code, reason: 'full' });
      throw limitExceeded(`This meeting is full: ${guests} people have joined it`);
    }
    const request = {
      ExternalUserId: externalUserIdFor(name),
      ...(locked ? { Capabilities: { Audio: 'Receive', Video: 'SendReceive', Content: 'SendReceive' } as const } : {}),
    };
    let attendee;
    if (role !== 'host') record.pendingGuests++;
    try {
      attendee = await this.options.service.createAttendee(meetingId, request);
    } catch (error) {
      // The host key always gets in: a guest who is not connected gives up its place.
      const vacancy = role === 'host' && error instanceof ChimeApiError && error.exception === 'LimitExceededException'
        ? [...record.created.entries()].find(([id, c]) => c.role !== 'host' && !this.connected(meetingId, id))?.[0]
        : undefined;
      if (vacancy === undefined) throw error;
      await this.release(record, meetingId, vacancy, 'host-needs-room');
      attendee = await this.options.service.createAttendee(meetingId, request);
    } finally {
      if (role !== 'host') record.pendingGuests--;
    }
    record.created.set(attendee.AttendeeId, { deviceId, role, lastConnected: this.clock.now() });
    record.people.add(attendee.AttendeeId, { name, deviceId, role });
    const finalRole = record.people.roleOf(attendee.AttendeeId);
    return { Meeting: meeting, Attendee: attendee, isHost: finalRole === 'host', role: finalRole };
  }

  private connected(meetingId: string, attendeeId: string): boolean {
    return this.options.isConnected?.(meetingId, attendeeId) ?? false;
  }

  /** Deletes an attendee this API created: its slot in the meeting is free again. */
  private async release(record: AppMeetingRecord, meetingId: string, attendeeId: string, why: string): Promise<void> {
    if (!record.created.delete(attendeeId)) return;
    this.options.logger.info('app_attendee_released', { meetingCode: record.code, attendeeId, why });
    await this.options.service.deleteAttendee(meetingId, attendeeId).catch((error: unknown) => {
      if (!(error instanceof ChimeApiError && error.exception === 'NotFoundException')) throw error;
    });
  }

  /** An attendee's signaling session ended: one that said LEAVE is gone for good, so its slot is released at once. */
  attendeeLeft(meetingId: string, attendeeId: string, dropped: boolean): void {
    const record = this.recordForMeeting(meetingId);
    if (!record || dropped || !record.created.has(attendeeId)) return;
    void this.release(record, meetingId, attendeeId, 'left').catch((error: unknown) => this.options.logger.error('app_release_failed', { attendeeId, error }));
  }

  private countJoin(record: AppMeetingRecord, clientKey: string): void {
    if (this.joinAttempts.blocked(clientKey)) {
      const retry = Math.max(1, this.joinAttempts.retryAfterSeconds(clientKey));
      this.options.logger.info('app_join_refused', { meetingCode: record.code, reason: 'join-rate' });
      throw new ThrottledError(`Too many joins from your address; try again in ${retry} s`, retry);
    }
    this.joinAttempts.recordFailure(clientKey);
  }

  private countAnonymousHosting(clientKey: string): void {
    if (this.webHostings.blocked(clientKey)) {
      const retry = Math.max(1, this.webHostings.retryAfterSeconds(clientKey));
      throw new ThrottledError(`Too many meetings started from your address; try again in ${retry} s`, retry);
    }
    this.webHostings.recordFailure(clientKey);
  }

  /** Releases attendees the app created that have not been connected for releaseAfterMs. */
  private releaseAbsent(record: AppMeetingRecord): void {
    const meetingId = record.meetingId;
    if (meetingId === undefined) return;
    const now = this.clock.now();
    for (const [id, info] of record.created) {
      if (this.connected(meetingId, id)) info.lastConnected = now;
      else if (now - info.lastConnected > this.limits.releaseAfterMs) {
        void this.release(record, meetingId, id, 'absent').catch((error: unknown) => this.options.logger.error('app_release_failed', { attendeeId: id, error }));
      }
    }
  }

  /** A waiting guest asks whether it was let in; held until a decision or `holdMs`. */
  async lobbyWait(code: string, body: { ticket?: unknown }, holdMs = LOBBY_HOLD_MS): Promise<LobbyWaitResult> {
    const record = this.require(code);
    const entry = typeof body.ticket === 'string' ? record.lobby.byTicket(body.ticket) : undefined;
    if (!entry) throw refuse('lobby-gone', 'This place in the lobby is no longer valid; ask to join again', 'NotFoundException');
    await record.lobby.wait(entry, holdMs);
    const outcome = entry.outcome;
    if (!outcome) return { waiting: true, position: record.lobby.position(entry) };
    switch (outcome.kind) {
      case 'admitted':
        return outcome.result;
      case 'denied':
        throw refuse('denied', 'The host did not let you into this meeting');
      case 'gone':
        throw refuse('lobby-gone', this.byCode.get(code) ? 'This place in the lobby is no longer valid; ask to join again' : 'The meeting has ended', 'NotFoundException');
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown lobby outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }

  lobbyLeave(code: string, body: { ticket?: unknown }): void {
    const record = this.require(code);
    const entry = typeof body.ticket === 'string' ? record.lobby.byTicket(body.ticket) : undefined;
    if (entry) record.lobby.leave(entry);
  }

  /**
   * The live state for one attendee (or the host key): at once when it changed
   * since `since`, else when it changes or after `holdMs`. Each request is also
   * the attendee's app checking in, with its own view of its connection.
   */
  async live(code: string, credentials: Credentials, body: { since?: unknown; connection?: unknown }, holdMs = LIVE_HOLD_MS): Promise<LiveResponse> {
    const record = this.require(code);
    const actor = await this.authenticate(record, credentials);
    if (body.since !== undefined && (typeof body.since !== 'number' || !Number.isSafeInteger(body.since))) throw badRequest('since must be an integer');
    if (body.connection !== undefined && !(CONNECTION_REPORTS as readonly unknown[]).includes(body.connection)) throw badRequest(`connection must be one of ${CONNECTION_REPORTS.join(', ')}`);
    const connection = body.connection as (typeof CONNECTION_REPORTS)[number] | undefined;
    const since = (body.since as number | undefined) ?? 0;
    const viewer: Viewer = actor.kind === 'attendee' ? { kind: 'attendee', attendeeId: actor.attendeeId } : { kind: 'host-key' };
    if (actor.kind === 'attendee') record.people.checkIn(actor.attendeeId, connection);
    if (record.people.version === since && !this.closed) await this.waitForChange(record, since, holdMs);
    if (this.byCode.get(code) !== record) throw notFound('The meeting has ended');
    if (actor.kind === 'attendee') record.people.checkIn(actor.attendeeId, undefined);
    if (record.people.version === since) return {};
    return { state: record.people.view(viewer, record.lobby.list()) };
  }

  private waitForChange(record: AppMeetingRecord, since: number, holdMs: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        stop();
        resolve();
      };
      const stop = record.people.onChange(() => {
        if (record.people.version !== since) finish();
      });
      const timer = this.clock.setTimeout(finish, holdMs);
    });
  }

  /** A moderation action or a self action (raise hand, ask to unmute), by an authenticated actor. */
  async act(code: string, credentials: Credentials, body: unknown): Promise<void> {
    const record = this.require(code);
    const actor = await this.authenticate(record, credentials);
    await applyModeration(this.context(record), actor, parseModerationAction(body));
  }

  async end(code: string, credentials: Credentials | string | undefined): Promise<void> {
    const record = this.require(code);
    const actor = await this.authenticate(record, normalise(credentials));
    if (!(actor.kind === 'host-key' || actor.role === 'host')) throw refuse('not-moderator', 'Only the host can end the meeting for everyone');
    if (record.meetingId !== undefined) await this.options.service.deleteMeeting(record.meetingId);
  }

  /** Removes an attendee from the meeting and bans its device from coming back. */
  async removeAttendee(code: string, credentials: Credentials | string | undefined, attendeeId: string): Promise<void> {
    const record = this.require(code);
    const actor = await this.authenticate(record, normalise(credentials));
    await applyModeration(this.context(record), actor, { kind: 'remove', attendeeId });
  }

  /** Chime-style mute: a guest may only receive audio from now on (a lock); anyone's live session is muted at once. */
  async muteAttendee(code: string, credentials: Credentials | string | undefined, attendeeId: string): Promise<void> {
    const record = this.require(code);
    const actor = await this.authenticate(record, normalise(credentials));
    await applyModeration(this.context(record), actor, { kind: 'mute', attendeeId });
  }

  private context(record: AppMeetingRecord): ModerationContext {
    return {
      code: record.code,
      meetingId: () => this.liveMeetingId(record),
      people: record.people,
      lobby: record.lobby,
      service: this.options.service,
      logger: this.options.logger,
      muteLive: (meetingId, attendeeId) => this.options.muteLive?.(meetingId, attendeeId),
      admit: (name, deviceId) => this.admit(record, name, deviceId, 'guest'),
    };
  }

  /**
   * The host key, or an attendee's id and JoinToken. An attendee acts with the role
   * the app gave it; an attendee the app never saw (created through the Chime API)
   * is a guest.
   */
  async authenticate(record: AppMeetingRecord, credentials: Credentials): Promise<Actor> {
    if (credentials.hostKey !== undefined) {
      if (!hostKeyMatches(credentials.hostKey, record.hostKeyHash)) throw forbidden('The host key is not valid for this meeting');
      return { kind: 'host-key' };
    }
    const { attendeeId, joinToken } = credentials;
    if (!attendeeId || !joinToken) throw refuse('not-moderator', 'This needs the host key or your attendee credentials (X-Chorus-Host-Key, or X-Chorus-Attendee-Id and X-Chorus-Join-Token)');
    const meetingId = this.liveMeetingId(record);
    // Tokens are kept only as hashes, so the presented one is resolved rather than compared.
    const identity = await this.options.service.resolveJoinToken(joinToken);
    if (!identity || identity.content || identity.meeting.MeetingId !== meetingId || identity.attendee.AttendeeId !== attendeeId) {
      throw refuse('unknown-attendee', 'The attendee credentials are not valid, or you are no longer in this meeting');
    }
    return { kind: 'attendee', attendeeId, role: record.people.roleOf(attendeeId) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.unsubscribe) fn();
    this.clock.clearTimeout(this.sweepTimer);
    for (const record of this.byCode.values()) {
      record.lobby.closeAll();
      record.people.touch();
    }
    this.byCode.clear();
    this.codeByMeetingId.clear();
  }

  /** Marks attendees whose app stopped checking in, and drops guests who left the lobby. */
  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      for (const record of this.byCode.values()) {
        try {
          record.people.sweep();
          record.lobby.sweep();
          this.releaseAbsent(record);
        } catch (error) {
          this.options.logger.error('app_sweep_failed', { meetingCode: record.code, error });
        }
      }
      this.scheduleSweep();
    }, SWEEP_MS);
  }

  private recordForMeeting(meetingId: string): AppMeetingRecord | undefined {
    const code = this.codeByMeetingId.get(meetingId);
    return code === undefined ? undefined : this.byCode.get(code);
  }

  /** For the HTTP layer: the record behind a code, or NotFoundException. */
  require(code: string): AppMeetingRecord {
    const record = this.byCode.get(code);
    if (!record) throw notFound(`No meeting with code ${code.slice(0, 32)}`);
    return record;
  }

  private liveMeetingId(record: AppMeetingRecord): string {
    if (record.meetingId === undefined) throw notFound(`Meeting ${record.code} has nobody in it right now`);
    return record.meetingId;
  }
}

/** An address or device got into the meeting: its guessing limit will not lock it out later. */
function remember(record: AppMeetingRecord, clientKey: string, deviceId: string | undefined): void {
  for (const key of [`address:${clientKey}`, ...(deviceId ? [`device:${deviceId}`] : [])]) {
    record.known.delete(key);
    record.known.add(key);
  }
  while (record.known.size > MAX_KNOWN) record.known.delete(record.known.values().next().value!);
}

/** ThrottlingException (429) with how long to wait, which the HTTP layer sends as Retry-After. */
export class ThrottledError extends ChimeApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('ThrottlingException', message);
  }
}

/** The older host-only calls pass the host key alone. */
function normalise(credentials: Credentials | string | undefined): Credentials {
  if (typeof credentials === 'object') return credentials;
  // A missing key is still an attempt with the host key: it fails as one.
  return { hostKey: credentials ?? '' };
}
