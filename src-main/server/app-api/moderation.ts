import { MODERATION_KINDS, type JoinResult, type ModerationAction, type Role } from '../../shared/app-api.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { badRequest } from '../errors.js';
import type { Logger } from '../logger.js';
import { refuse } from './app-errors.js';
import type { Lobby, LobbyEntry } from './lobby.js';
import type { MeetingPeople } from './meeting-people.js';

/**
 * What hosts, co-hosts and attendees may do to a meeting, and who may do what:
 *
 * - anyone: raise or lower their own hand, ask to be allowed to unmute;
 * - host and co-hosts: mute (a guest's mute is a lock: Audio becomes `Receive`),
 *   allow unmuting, mute all, lower hands, remove (a ban), lift bans, run the lobby;
 * - the host only: make or unmake co-hosts; nobody acts on the host, and a
 *   co-host does not act on another co-host.
 */

export type Actor = { kind: 'host-key' } | { kind: 'attendee'; attendeeId: string; role: Role };

/** The public actions plus the two that have their own routes. */
export type InternalAction = ModerationAction | { kind: 'mute'; attendeeId: string } | { kind: 'remove'; attendeeId: string };

export interface ModerationContext {
  code: string;
  meetingId(): string;
  people: MeetingPeople;
  lobby: Lobby;
  service: MeetingService;
  logger: Logger;
  muteLive(meetingId: string, attendeeId: string): void;
  /** Creates the attendee of an admitted guest. */
  admit(name: string, deviceId: string | undefined): Promise<JoinResult>;
}

const ID = /^[A-Za-z0-9._~-]{1,128}$/;

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || !ID.test(value)) throw badRequest(`${name} must be an id`);
  return value;
}

/** Validates a request body into one action; anything else is a BadRequestException naming the problem. */
export function parseModerationAction(body: unknown): ModerationAction {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The action must be a JSON object');
  const o = body as Record<string, unknown>;
  const kind = o.kind;
  if (typeof kind !== 'string' || !(MODERATION_KINDS as readonly string[]).includes(kind)) throw badRequest(`kind must be one of ${MODERATION_KINDS.join(', ')}`);
  const k = kind as ModerationAction['kind'];
  switch (k) {
    case 'raise-hand':
    case 'ask-unmute':
    case 'mute-all':
    case 'admit-all':
      return { kind: k };
    case 'lower-hand':
    case 'allow-unmute':
      return { kind: k, attendeeId: field(o, 'attendeeId') };
    case 'set-role': {
      if (o.role !== 'cohost' && o.role !== 'guest') throw badRequest('role must be cohost or guest');
      return { kind: k, attendeeId: field(o, 'attendeeId'), role: o.role };
    }
    case 'admit':
    case 'deny':
      return { kind: k, entryId: field(o, 'entryId') };
    case 'lift-ban':
      return { kind: k, banId: field(o, 'banId') };
    case 'set-lobby':
      if (typeof o.enabled !== 'boolean') throw badRequest('enabled must be true or false');
      return { kind: k, enabled: o.enabled };
    default: {
      const unreachable: never = k;
      throw badRequest(`unknown action ${String(unreachable)}`);
    }
  }
}

const isModerator = (actor: Actor): boolean => actor.kind === 'host-key' || actor.role !== 'guest';
const isHost = (actor: Actor): boolean => actor.kind === 'host-key' || actor.role === 'host';

function selfOf(actor: Actor): string {
  if (actor.kind !== 'attendee') throw badRequest('This is done by an attendee for themselves: send your attendee credentials');
  return actor.attendeeId;
}

function requireModerator(actor: Actor): void {
  if (!isModerator(actor)) throw refuse('not-moderator', 'Only the host or a co-host can do this');
}

/** Nobody acts on the host; co-hosts do not act on each other. */
function requireAuthorityOver(ctx: ModerationContext, actor: Actor, targetId: string): void {
  requireModerator(actor);
  const target = ctx.people.roleOf(targetId);
  if (target === 'host' && !(actor.kind === 'attendee' && actor.attendeeId === targetId)) throw refuse('not-moderator', 'Nobody can do this to the host');
  if (target === 'cohost' && !isHost(actor)) throw refuse('not-moderator', 'Only the host can do this to a co-host');
}

async function setAudio(ctx: ModerationContext, attendeeId: string, audio: 'Receive' | 'SendReceive'): Promise<void> {
  const meetingId = ctx.meetingId();
  const attendee = await ctx.service.getAttendee(meetingId, attendeeId);
  if (attendee.Capabilities.Audio !== audio) await ctx.service.updateAttendeeCapabilities(meetingId, attendeeId, { ...attendee.Capabilities, Audio: audio });
}

/** Mutes an attendee's live session; a guest is also locked (Audio `Receive`) until allowed to unmute. */
async function mute(ctx: ModerationContext, attendeeId: string): Promise<void> {
  const meetingId = ctx.meetingId();
  if (ctx.people.roleOf(attendeeId) === 'guest') await setAudio(ctx, attendeeId, 'Receive');
  else await ctx.service.getAttendee(meetingId, attendeeId);
  ctx.muteLive(meetingId, attendeeId);
}

async function admit(ctx: ModerationContext, entry: LobbyEntry | undefined): Promise<void> {
  if (!entry || entry.outcome?.kind === 'denied' || entry.outcome?.kind === 'gone') throw refuse('lobby-gone', 'This guest is no longer waiting', 'NotFoundException');
  if (entry.outcome || entry.admitting) return;
  entry.admitting = true;
  try {
    const result = await ctx.admit(entry.name, entry.deviceId);
    if (entry.outcome) {
      // The guest left while its attendee was being created: nobody will use it.
      await ctx.service.deleteAttendee(ctx.meetingId(), result.Attendee.AttendeeId).catch(() => undefined);
      return;
    }
    ctx.lobby.decide(entry, { kind: 'admitted', result });
    ctx.logger.info('app_lobby_admitted', { meetingCode: ctx.code, attendeeId: result.Attendee.AttendeeId });
  } finally {
    entry.admitting = false;
  }
}

export async function applyModeration(ctx: ModerationContext, actor: Actor, action: InternalAction): Promise<void> {
  const { people } = ctx;
  switch (action.kind) {
    case 'raise-hand':
      people.raiseHand(selfOf(actor));
      return;
    case 'lower-hand':
      if (actor.kind !== 'attendee' || actor.attendeeId !== action.attendeeId) requireModerator(actor);
      people.lowerHand(action.attendeeId);
      return;
    case 'ask-unmute': {
      const self = selfOf(actor);
      if (!people.isAudioLocked(self)) throw badRequest('You are not muted by the host: you can unmute yourself');
      people.requestUnmute(self);
      return;
    }
    case 'allow-unmute':
      requireAuthorityOver(ctx, actor, action.attendeeId);
      await setAudio(ctx, action.attendeeId, 'SendReceive');
      return;
    case 'mute':
      requireAuthorityOver(ctx, actor, action.attendeeId);
      await mute(ctx, action.attendeeId);
      return;
    case 'mute-all': {
      requireModerator(actor);
      const self = actor.kind === 'attendee' ? actor.attendeeId : undefined;
      for (const id of people.attendeeIds()) {
        if (id === self || people.roleOf(id) === 'host' || (people.roleOf(id) === 'cohost' && !isHost(actor))) continue;
        await mute(ctx, id).catch((error: unknown) => ctx.logger.info('app_mute_all_skipped', { attendeeId: id, error }));
      }
      return;
    }
    case 'remove': {
      requireAuthorityOver(ctx, actor, action.attendeeId);
      if (actor.kind === 'attendee' && actor.attendeeId === action.attendeeId) throw badRequest('Leave the meeting instead of removing yourself');
      const meetingId = ctx.meetingId();
      // Exists? (NotFoundException otherwise.) Then the ban first, so a rejoin racing the removal is refused.
      await ctx.service.getAttendee(meetingId, action.attendeeId);
      people.ban(action.attendeeId);
      await ctx.service.deleteAttendee(meetingId, action.attendeeId);
      ctx.logger.info('app_attendee_removed', { meetingCode: ctx.code, attendeeId: action.attendeeId });
      return;
    }
    case 'set-role':
      if (!isHost(actor)) throw refuse('not-moderator', 'Only the host can make or unmake co-hosts');
      if (people.roleOf(action.attendeeId) === 'host') throw badRequest('The host is the host');
      if (!people.setRole(action.attendeeId, action.role)) throw refuse('unknown-attendee', 'Nobody with this id joined through the app', 'NotFoundException');
      // A co-host is never held by a lock.
      if (action.role === 'cohost' && people.isAudioLocked(action.attendeeId)) await setAudio(ctx, action.attendeeId, 'SendReceive');
      return;
    case 'admit':
      requireModerator(actor);
      await admit(ctx, ctx.lobby.byId(action.entryId));
      return;
    case 'admit-all':
      requireModerator(actor);
      for (const entry of ctx.lobby.waiting()) await admit(ctx, entry);
      return;
    case 'deny': {
      requireModerator(actor);
      const entry = ctx.lobby.byId(action.entryId);
      if (!entry || entry.outcome) throw refuse('lobby-gone', 'This guest is no longer waiting', 'NotFoundException');
      ctx.lobby.decide(entry, { kind: 'denied' });
      return;
    }
    case 'lift-ban':
      requireModerator(actor);
      if (!people.liftBan(action.banId)) throw refuse('unknown-attendee', 'No such ban', 'NotFoundException');
      return;
    case 'set-lobby':
      requireModerator(actor);
      people.setLobby(action.enabled);
      return;
    default: {
      const unreachable: never = action;
      throw new Error(`unhandled action ${JSON.stringify(unreachable)}`);
    }
  }
}
