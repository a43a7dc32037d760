import type { Attendee, Meeting } from './chime-types.js';

/**
 * The Chorus app API (/app/api/ on a Chorus server): what the meeting app needs
 * beyond the Chime API — meetings found by code, passcodes, the lobby, and the
 * live moderation state (roles, raised hands, mute locks, connection reports).
 * One definition, imported by the server (src-main/server/app-api) and the
 * renderer (src-renderer/src/api), so the two cannot drift apart.
 */

export const APP_API_PREFIX = '/app/api/';

/** Host actions may carry the meeting's host key … */
export const HOST_KEY_HEADER = 'x-chorus-host-key';
/** … or the caller's own attendee credentials (the JoinToken the server issued), checked against its role. */
export const ATTENDEE_ID_HEADER = 'x-chorus-attendee-id';
export const JOIN_TOKEN_HEADER = 'x-chorus-join-token';

export const NAME_LIMITS = { min: 1, max: 64 } as const;
export const PASSCODE_LIMITS = { min: 4, max: 32 } as const;
/**
 * A server that lists its meetings (the default; `--unlisted` turns it off) shows
 * every meeting code to anyone who can reach it, so the passcode is all that
 * guards a meeting: it must be long enough not to be guessed within the limits.
 */
export const LISTED_PASSCODE_MIN = 8;

/** The shortest passcode a server takes: `listed` is ServerInfo.listed (absent: an older server, which lists). */
export function passcodeMinimum(listed: boolean | undefined): number {
  return listed === false ? PASSCODE_LIMITS.min : LISTED_PASSCODE_MIN;
}
/** A device id is the browser's random, remembered identity: how a ban or an admission outlives a reload. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** How the live state is kept fresh: the server answers a live request at once on a change, else after this long. */
export const LIVE_HOLD_MS = 2_500;
/** An attendee whose app has not asked for the live state for this long is shown to the others as having lost its connection. */
export const LIVE_LOST_AFTER_MS = 6_000;
/** … and after this long it is forgotten (hand lowered, requests dropped). */
export const LIVE_GONE_AFTER_MS = 60_000;
/** The lobby holds a waiting guest's request this long before answering "still waiting". */
export const LOBBY_HOLD_MS = 20_000;
/** A waiting guest that stops asking for this long has given up. */
export const LOBBY_ABANDONED_AFTER_MS = 45_000;

/** Data-message topic on which the server itself (empty sender) tells one client what a host did. */
export const HOST_CONTROL_TOPIC = 'chorus-host';

export interface ServerInfo {
  name: string;
  version: string;
  fingerprint?: string;
  urls: string[];
  /** Whether this server lets the web app create meetings without the bearer token (`--allow-web-hosting`). */
  webHosting: boolean;
  /** Whether GET /app/api/meetings lists the meetings to anyone (false with `--unlisted`: only to the bearer token). */
  listed?: boolean;
}

export interface MeetingListing {
  meetingCode: string;
  name: string;
  attendees: number;
  passcodeRequired: boolean;
  startedAt: string;
}

export interface MeetingDescription {
  meetingCode: string;
  name: string;
  passcodeRequired: boolean;
}

export interface CreateMeetingRequest {
  name: string;
  passcode?: string;
  /** Guests wait in a lobby until a host or co-host admits them. */
  lobby?: boolean;
}

export interface CreatedMeeting {
  meetingCode: string;
  meetingId: string;
  name: string;
  passcodeRequired: boolean;
  hostKey: string;
}

export interface JoinRequest {
  displayName: string;
  passcode?: string;
  hostKey?: string;
  deviceId?: string;
}

export type Role = 'host' | 'cohost' | 'guest';

/** Meeting and Attendee exactly as CreateMeeting/CreateAttendee return them, and the joiner's role. */
export interface JoinResult {
  Meeting: Meeting;
  Attendee: Attendee;
  isHost: boolean;
  role: Role;
}

/** POST …/join answers 202 with this when the meeting has a lobby: the guest waits with the ticket. */
export interface LobbyTicket {
  waiting: true;
  /** Secret: whoever holds it is this guest. */
  ticket: string;
}

export type JoinResponse = JoinResult | LobbyTicket;

export function isLobbyTicket(response: JoinResponse): response is LobbyTicket {
  return (response as Partial<LobbyTicket>).waiting === true;
}

/** POST …/lobby/wait: still waiting (ask again), or admitted (a JoinResult). Denied is a 403 with reason `denied`. */
export type LobbyWaitResult = { waiting: true; position: number } | JoinResult;

/**
 * Why a request was refused, beyond the Chime exception name: sent as `Reason` in
 * the error body so the app can say exactly what happened.
 */
export const APP_ERROR_REASONS = ['passcode-missing', 'passcode-wrong', 'banned', 'denied', 'lobby-gone', 'not-moderator', 'unknown-attendee'] as const;
export type AppErrorReason = (typeof APP_ERROR_REASONS)[number];

/** A connection as its own app measures it; `lost` is the server's verdict when the app stops checking in. */
export type ConnectionReport = 'good' | 'fair' | 'poor';
export type ConnectionVerdict = ConnectionReport | 'lost';
export const CONNECTION_REPORTS: readonly ConnectionReport[] = ['good', 'fair', 'poor'];

export interface LiveRequest {
  /** The version the app has; the server answers at once when its state is newer. */
  since: number;
  connection?: ConnectionReport;
}

export interface RaisedHand {
  attendeeId: string;
  name: string;
  raisedAt: number;
}

export interface UnmuteRequest {
  attendeeId: string;
  name: string;
  at: number;
}

export interface WaitingGuest {
  /** Public id of a lobby entry (not the guest's secret ticket). */
  id: string;
  name: string;
  since: number;
}

export interface BannedPerson {
  id: string;
  name: string;
  at: number;
}

/**
 * The moderation state of one meeting as one attendee sees it. Moderators (host,
 * co-hosts) also get the lobby, the bans and the unmute requests; everyone gets
 * roles, hands in raise order, mute locks and connection verdicts.
 */
export interface LiveState {
  version: number;
  /** Epoch ms the meeting started, for the meeting timer, and the server's clock now (to correct skew). */
  startedAt: number;
  serverNow: number;
  lobbyEnabled: boolean;
  self: { role: Role; audioLocked: boolean; askedToUnmute: boolean };
  /** Attendees with a role other than guest. */
  roles: Record<string, Exclude<Role, 'guest'>>;
  hands: RaisedHand[];
  /** Attendees whose Audio capability does not allow sending: a host muted them and they cannot unmute. */
  audioLocked: string[];
  /** Only attendees whose connection is not good. */
  connections: Record<string, Exclude<ConnectionVerdict, 'good'>>;
  unmuteRequests: UnmuteRequest[];
  waiting: WaitingGuest[];
  banned: BannedPerson[];
}

export interface LiveResponse {
  /** Absent when nothing changed since the requested version. */
  state?: LiveState;
}

export type ModerationAction =
  | { kind: 'raise-hand' }
  | { kind: 'lower-hand'; attendeeId: string }
  | { kind: 'ask-unmute' }
  | { kind: 'allow-unmute'; attendeeId: string }
  | { kind: 'mute-all' }
  | { kind: 'set-role'; attendeeId: string; role: Exclude<Role, 'host'> }
  | { kind: 'admit'; entryId: string }
  | { kind: 'admit-all' }
  | { kind: 'deny'; entryId: string }
  | { kind: 'lift-ban'; banId: string }
  | { kind: 'set-lobby'; enabled: boolean };

export const MODERATION_KINDS = ['raise-hand', 'lower-hand', 'ask-unmute', 'allow-unmute', 'mute-all', 'set-role', 'admit', 'admit-all', 'deny', 'lift-ban', 'set-lobby'] as const satisfies readonly ModerationAction['kind'][];
type MissingKind = Exclude<ModerationAction['kind'], (typeof MODERATION_KINDS)[number]>;
const _everyKindListed: [MissingKind] extends [never] ? true : never = true;
void _everyKindListed;
