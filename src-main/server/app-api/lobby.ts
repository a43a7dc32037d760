import { createHash, randomBytes } from 'node:crypto';
import { LOBBY_ABANDONED_AFTER_MS, type JoinResult, type WaitingGuest } from '../../shared/app-api.js';
import type { Clock } from '../runtime/clock.js';

/**
 * The waiting room of one meeting. A guest who passed the passcode check gets a
 * secret ticket and asks, again and again, whether a moderator decided; each ask
 * is held until the decision or a timeout (a long poll), so admission reaches the
 * guest at once. A guest who stops asking has given up and leaves the list.
 */

export type LobbyOutcome = { kind: 'admitted'; result: JoinResult } | { kind: 'denied' } | { kind: 'gone' };

export interface LobbyEntry {
  readonly id: string;
  readonly name: string;
  readonly deviceId: string | undefined;
  readonly since: number;
  lastSeen: number;
  outcome: LobbyOutcome | undefined;
  /** Set while a moderator's admission is creating the attendee, so two admits make one attendee. */
  admitting: boolean;
}

/** How long a decided entry is kept, so a guest whose answer got lost can ask again and still get it. */
const DECIDED_KEPT_MS = 60_000;

const hashTicket = (ticket: string): string => createHash('sha256').update(ticket).digest('base64url');

export class Lobby {
  private readonly byTicketHash = new Map<string, LobbyEntry>();
  private readonly waiters = new Map<LobbyEntry, Set<() => void>>();
  private readonly decidedAt = new Map<LobbyEntry, number>();

  constructor(
    private readonly clock: Clock,
    private readonly onListChanged: () => void,
  ) {}

  enter(name: string, deviceId: string | undefined): { ticket: string; entry: LobbyEntry } {
    const ticket = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const entry: LobbyEntry = { id: randomBytes(9).toString('base64url'), name, deviceId, since: now, lastSeen: now, outcome: undefined, admitting: false };
    this.byTicketHash.set(hashTicket(ticket), entry);
    this.onListChanged();
    return { ticket, entry };
  }

  byTicket(ticket: string): LobbyEntry | undefined {
    if (ticket.length === 0 || ticket.length > 128) return undefined;
    return this.byTicketHash.get(hashTicket(ticket));
  }

  byId(id: string): LobbyEntry | undefined {
    for (const entry of this.byTicketHash.values()) if (entry.id === id) return entry;
    return undefined;
  }

  /** Guests still waiting, first come first. */
  waiting(): LobbyEntry[] {
    return [...this.byTicketHash.values()].filter((e) => e.outcome === undefined).sort((a, b) => a.since - b.since);
  }

  list(): WaitingGuest[] {
    return this.waiting().map((e) => ({ id: e.id, name: e.name, since: e.since }));
  }

  position(entry: LobbyEntry): number {
    return this.waiting().indexOf(entry) + 1;
  }

  decide(entry: LobbyEntry, outcome: LobbyOutcome): void {
    if (entry.outcome) return;
    entry.outcome = outcome;
    this.decidedAt.set(entry, this.clock.now());
    this.wake(entry);
    this.onListChanged();
  }

  /** Resolves when the entry is decided, or after `holdMs`; the guest then asks again. */
  wait(entry: LobbyEntry, holdMs: number): Promise<void> {
    entry.lastSeen = this.clock.now();
    if (entry.outcome) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        this.waiters.get(entry)?.delete(finish);
        // Asking is what keeps a guest in the lobby: the time spent held counts as seen.
        entry.lastSeen = this.clock.now();
        resolve();
      };
      const timer = this.clock.setTimeout(finish, holdMs);
      let set = this.waiters.get(entry);
      if (!set) this.waiters.set(entry, (set = new Set()));
      set.add(finish);
    });
  }

  /** The guest gave up (closed the page, pressed Cancel). */
  leave(entry: LobbyEntry): void {
    if (!entry.outcome) this.decide(entry, { kind: 'gone' });
  }

  /** Drops guests who stopped asking, and decided entries past their keeping time. */
  sweep(): void {
    const now = this.clock.now();
    for (const [hash, entry] of this.byTicketHash) {
      const decided = this.decidedAt.get(entry);
      if (decided !== undefined && now - decided > DECIDED_KEPT_MS) {
        this.byTicketHash.delete(hash);
        this.decidedAt.delete(entry);
        this.waiters.delete(entry);
      } else if (!entry.outcome && !this.waiters.get(entry)?.size && now - entry.lastSeen > LOBBY_ABANDONED_AFTER_MS) {
        this.decide(entry, { kind: 'gone' });
      }
    }
  }

  /** The meeting is over: every waiting guest is told. */
  closeAll(): void {
    for (const entry of this.byTicketHash.values()) this.decide(entry, { kind: 'gone' });
  }

  private wake(entry: LobbyEntry): void {
    for (const finish of [...(this.waiters.get(entry) ?? [])]) finish();
  }
}
