import { randomBytes } from 'node:crypto';
import {
  LIVE_GONE_AFTER_MS,
  LIVE_LOST_AFTER_MS,
  type BannedPerson,
  type ConnectionReport,
  type ConnectionVerdict,
  type LiveState,
  type RaisedHand,
  type Role,
  type UnmuteRequest,
} from '../../shared/app-api.js';
import type { Clock } from '../runtime/clock.js';

/**
 * The people side of one app meeting: who joined through the app (name, device,
 * role), raised hands in order, mute locks and unmute requests, what each app
 * reports about its connection, and bans. Every change bumps `version`; the live
 * endpoint hands each attendee its own view (moderators see more). Keyed by
 * attendee, with what must outlive a reload (co-host role, mute lock, ban,
 * admission) also kept by device id.
 */

interface Person {
  attendeeId: string;
  name: string;
  deviceId: string | undefined;
  role: Role;
  audioLocked: boolean;
  /** Epoch ms of the last live request; undefined until the app first checks in. */
  lastSeen: number | undefined;
  connection: ConnectionVerdict;
}

interface Ban extends BannedPerson {
  deviceId: string | undefined;
  attendeeId: string;
}

export type Viewer = { kind: 'host-key' } | { kind: 'attendee'; attendeeId: string };

const newId = (): string => randomBytes(9).toString('base64url');

export class MeetingPeople {
  private readonly people = new Map<string, Person>();
  /** Raise order: a Map keeps insertion order, and lowering then raising again goes to the back. */
  private readonly hands = new Map<string, number>();
  private readonly unmuteRequests = new Map<string, number>();
  private readonly bans = new Map<string, Ban>();
  private readonly cohostDevices = new Set<string>();
  private readonly lockedDevices = new Set<string>();
  private readonly admittedDevices = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private versionNumber = 1;

  constructor(
    private readonly clock: Clock,
    private lobby: boolean,
    public startedAt: number,
  ) {}

  get version(): number {
    return this.versionNumber;
  }

  get lobbyEnabled(): boolean {
    return this.lobby;
  }

  /** Called after every change (the live endpoint wakes its waiting requests). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wakes held live requests without a change of its own (the lobby list changed, the server closes). */
  touch(): void {
    this.changed();
  }

  private changed(): void {
    this.versionNumber++;
    for (const listener of [...this.listeners]) listener();
  }

  setLobby(enabled: boolean): void {
    if (this.lobby === enabled) return;
    this.lobby = enabled;
    this.changed();
  }

  // ---- attendees -----------------------------------------------------------

  add(attendeeId: string, details: { name: string; deviceId: string | undefined; role: Role }): void {
    const role: Role = details.role === 'host' ? 'host' : details.deviceId && this.cohostDevices.has(details.deviceId) ? 'cohost' : details.role;
    this.people.set(attendeeId, {
      attendeeId,
      name: details.name,
      deviceId: details.deviceId,
      role,
      audioLocked: this.mustJoinLocked(details.deviceId, role),
      lastSeen: undefined,
      connection: 'good',
    });
    if (details.deviceId) this.admittedDevices.add(details.deviceId);
    this.changed();
  }

  /** A device a moderator locked keeps its lock when it comes back (reload, rejoin); moderators are never locked. */
  mustJoinLocked(deviceId: string | undefined, role: Role): boolean {
    return role === 'guest' && deviceId !== undefined && this.lockedDevices.has(deviceId);
  }

  /** The attendee is gone from the meeting (removed, or the meeting ended). */
  forget(attendeeId: string): void {
    const had = this.people.delete(attendeeId);
    const hand = this.hands.delete(attendeeId);
    const request = this.unmuteRequests.delete(attendeeId);
    if (had || hand || request) this.changed();
  }

  /** The Chime meeting behind the code ended; bans, co-host devices and locks stay with the code. */
  resetAttendees(startedAt: number): void {
    this.people.clear();
    this.hands.clear();
    this.unmuteRequests.clear();
    this.startedAt = startedAt;
    this.changed();
  }

  person(attendeeId: string): { name: string; role: Role; deviceId: string | undefined } | undefined {
    const p = this.people.get(attendeeId);
    return p && { name: p.name, role: p.role, deviceId: p.deviceId };
  }

  roleOf(attendeeId: string): Role {
    return this.people.get(attendeeId)?.role ?? 'guest';
  }

  /** The host makes someone co-host or guest again; a device keeps the role across reloads. */
  setRole(attendeeId: string, role: Exclude<Role, 'host'>): boolean {
    const p = this.people.get(attendeeId);
    if (!p || p.role === 'host') return false;
    if (p.deviceId) {
      if (role === 'cohost') this.cohostDevices.add(p.deviceId);
      else this.cohostDevices.delete(p.deviceId);
    }
    if (p.role === role) return true;
    p.role = role;
    // A co-host cannot be held muted by a lock they could lift themselves.
    if (role === 'cohost') this.unmuteRequests.delete(attendeeId);
    this.changed();
    return true;
  }

  isModerator(attendeeId: string): boolean {
    const role = this.roleOf(attendeeId);
    return role === 'host' || role === 'cohost';
  }

  attendeeIds(): string[] {
    return [...this.people.keys()];
  }

  /** The role a device keeps across reloads. */
  roleFor(deviceId: string | undefined): 'cohost' | undefined {
    return deviceId !== undefined && this.cohostDevices.has(deviceId) ? 'cohost' : undefined;
  }

  wasAdmitted(deviceId: string | undefined): boolean {
    return deviceId !== undefined && this.admittedDevices.has(deviceId);
  }

  // ---- hands ---------------------------------------------------------------

  raiseHand(attendeeId: string): void {
    if (this.hands.has(attendeeId) || !this.people.has(attendeeId)) return;
    this.hands.set(attendeeId, this.clock.now());
    this.changed();
  }

  lowerHand(attendeeId: string): void {
    if (this.hands.delete(attendeeId)) this.changed();
  }

  // ---- mute locks ----------------------------------------------------------

  /** From the attendee's real Audio capability, whoever changed it (the app or the Chime API). */
  setAudioLocked(attendeeId: string, locked: boolean): void {
    const p = this.people.get(attendeeId);
    if (!p) return;
    if (p.deviceId) {
      if (locked) this.lockedDevices.add(p.deviceId);
      else this.lockedDevices.delete(p.deviceId);
    }
    const requestCleared = !locked && this.unmuteRequests.delete(attendeeId);
    if (p.audioLocked === locked && !requestCleared) return;
    p.audioLocked = locked;
    this.changed();
  }

  isAudioLocked(attendeeId: string): boolean {
    return this.people.get(attendeeId)?.audioLocked ?? false;
  }

  requestUnmute(attendeeId: string): boolean {
    const p = this.people.get(attendeeId);
    if (!p?.audioLocked || this.unmuteRequests.has(attendeeId)) return false;
    this.unmuteRequests.set(attendeeId, this.clock.now());
    this.changed();
    return true;
  }

  // ---- connection ----------------------------------------------------------

  /** A live request: the attendee's app is alive and says how its connection is. */
  checkIn(attendeeId: string, report: ConnectionReport | undefined): void {
    const p = this.people.get(attendeeId);
    if (!p) return;
    p.lastSeen = this.clock.now();
    const next: ConnectionVerdict = report ?? (p.connection === 'lost' ? 'good' : p.connection);
    if (next !== p.connection) {
      p.connection = next;
      this.changed();
    }
  }

  /**
   * Marks apps that stopped checking in as lost, and forgets the ones gone for
   * good (their hand and requests go with them). Returns whether anything changed.
   */
  sweep(): boolean {
    const now = this.clock.now();
    let changed = false;
    for (const p of this.people.values()) {
      if (p.lastSeen === undefined) continue;
      const silent = now - p.lastSeen;
      if (silent > LIVE_GONE_AFTER_MS) {
        changed = this.hands.delete(p.attendeeId) || changed;
        changed = this.unmuteRequests.delete(p.attendeeId) || changed;
        if (p.connection !== 'lost') {
          p.connection = 'lost';
          changed = true;
        }
      } else if (silent > LIVE_LOST_AFTER_MS && p.connection !== 'lost') {
        p.connection = 'lost';
        changed = true;
      }
    }
    if (changed) this.changed();
    return changed;
  }

  // ---- bans ----------------------------------------------------------------

  /** Removal: the person may not come back into this meeting (by device) until a moderator lifts the ban. */
  ban(attendeeId: string): BannedPerson | undefined {
    const p = this.people.get(attendeeId);
    const ban: Ban = { id: newId(), name: p?.name ?? 'Guest', at: this.clock.now(), deviceId: p?.deviceId, attendeeId };
    this.bans.set(ban.id, ban);
    if (p?.deviceId) {
      this.admittedDevices.delete(p.deviceId);
      this.cohostDevices.delete(p.deviceId);
    }
    this.forget(attendeeId);
    this.changed();
    return { id: ban.id, name: ban.name, at: ban.at };
  }

  isBanned(deviceId: string | undefined): boolean {
    if (deviceId === undefined) return false;
    for (const ban of this.bans.values()) if (ban.deviceId === deviceId) return true;
    return false;
  }

  liftBan(banId: string): boolean {
    if (!this.bans.delete(banId)) return false;
    this.changed();
    return true;
  }

  // ---- views ---------------------------------------------------------------

  /** What one attendee (or the holder of the host key) is shown. */
  view(viewer: Viewer, lobby: LiveState['waiting']): LiveState {
    const self = viewer.kind === 'attendee' ? this.people.get(viewer.attendeeId) : undefined;
    const role: Role = viewer.kind === 'host-key' ? 'host' : (self?.role ?? 'guest');
    const moderator = role !== 'guest';
    const roles: LiveState['roles'] = {};
    const audioLocked: string[] = [];
    const connections: LiveState['connections'] = {};
    for (const p of this.people.values()) {
      if (p.role !== 'guest') roles[p.attendeeId] = p.role;
      if (p.audioLocked) audioLocked.push(p.attendeeId);
      if (p.connection !== 'good') connections[p.attendeeId] = p.connection;
    }
    const nameOf = (id: string): string => this.people.get(id)?.name ?? 'Guest';
    const hands: RaisedHand[] = [...this.hands].map(([attendeeId, raisedAt]) => ({ attendeeId, name: nameOf(attendeeId), raisedAt }));
    const unmuteRequests: UnmuteRequest[] = moderator ? [...this.unmuteRequests].map(([attendeeId, at]) => ({ attendeeId, name: nameOf(attendeeId), at })) : [];
    return {
      version: this.versionNumber,
      startedAt: this.startedAt,
      serverNow: this.clock.now(),
      lobbyEnabled: this.lobby,
      self: { role, audioLocked: self?.audioLocked ?? false, askedToUnmute: self ? this.unmuteRequests.has(self.attendeeId) : false },
      roles,
      hands,
      audioLocked,
      connections,
      unmuteRequests,
      waiting: moderator ? lobby : [],
      banned: moderator ? [...this.bans.values()].map(({ id, name, at }) => ({ id, name, at })) : [],
    };
  }
}
