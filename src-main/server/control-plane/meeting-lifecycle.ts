import type { Clock } from '../runtime/clock.js';

export type MeetingEndReason =
  | 'deleted'
  | 'no-attendee-joined'
  | 'all-attendees-left'
  | 'max-duration'
  | 'server-shutdown';

export interface LifecycleTimeouts {
  /** The meeting ends if nobody has joined this long after creation. */
  noJoinMs: number;
  /** The meeting ends once everyone has been gone this long. */
  emptyMs: number;
  /** The meeting ends this long after creation, whatever happens. */
  maxDurationMs: number;
}

export const DEFAULT_LIFECYCLE_TIMEOUTS: LifecycleTimeouts = {
  noJoinMs: 5 * 60_000,
  emptyMs: 5 * 60_000,
  maxDurationMs: 24 * 3600_000,
};

interface Tracked {
  createdAt: number;
  present: Set<string>;
  everJoined: boolean;
  emptySince: number;
  timer: unknown;
}

/**
 * Decides when a meeting expires on its own. It holds one timer per meeting,
 * re-armed whenever presence changes, and calls `onExpire` once per meeting.
 */
export class MeetingLifecycle {
  private readonly meetings = new Map<string, Tracked>();

  constructor(
    private readonly timeouts: LifecycleTimeouts,
    private readonly clock: Clock,
    private readonly onExpire: (meetingId: string, reason: MeetingEndReason) => void,
  ) {}

  track(meetingId: string, createdAt: number): void {
    if (this.meetings.has(meetingId)) return;
    this.meetings.set(meetingId, { createdAt, present: new Set(), everJoined: false, emptySince: createdAt, timer: undefined });
    this.arm(meetingId);
  }

  /**
   * Tracks a meeting read back after a restart. Nobody is connected yet: one that had
   * people in it gets the full empty timeout from now for them to reconnect; one that
   * nobody had joined keeps its original no-join deadline.
   */
  restore(meetingId: string, createdAt: number, everJoined: boolean): void {
    if (this.meetings.has(meetingId)) return;
    this.meetings.set(meetingId, { createdAt, present: new Set(), everJoined, emptySince: this.clock.now(), timer: undefined });
    this.arm(meetingId);
  }

  /** Whether anyone has joined the meeting since it was tracked. */
  everJoined(meetingId: string): boolean {
    return this.meetings.get(meetingId)?.everJoined ?? false;
  }

  forget(meetingId: string): void {
    const tracked = this.meetings.get(meetingId);
    if (!tracked) return;
    this.clock.clearTimeout(tracked.timer);
    this.meetings.delete(meetingId);
  }

  joined(meetingId: string, participantId: string): void {
    const tracked = this.meetings.get(meetingId);
    if (!tracked) return;
    tracked.present.add(participantId);
    tracked.everJoined = true;
    this.arm(meetingId);
  }

  left(meetingId: string, participantId: string): void {
    const tracked = this.meetings.get(meetingId);
    if (!tracked || !tracked.present.delete(participantId)) return;
    if (tracked.present.size === 0) tracked.emptySince = this.clock.now();
    this.arm(meetingId);
  }

  presentCount(meetingId: string): number {
    return this.meetings.get(meetingId)?.present.size ?? 0;
  }

  /** The moment the meeting will expire if nothing changes, and why. */
  deadline(meetingId: string): { at: number; reason: MeetingEndReason } | undefined {
    const t = this.meetings.get(meetingId);
    if (!t) return undefined;
    const hardStop = { at: t.createdAt + this.timeouts.maxDurationMs, reason: 'max-duration' as const };
    if (t.present.size > 0) return hardStop;
    const idle = t.everJoined
      ? { at: t.emptySince + this.timeouts.emptyMs, reason: 'all-attendees-left' as const }
      : { at: t.createdAt + this.timeouts.noJoinMs, reason: 'no-attendee-joined' as const };
    return idle.at < hardStop.at ? idle : hardStop;
  }

  close(): void {
    for (const id of [...this.meetings.keys()]) this.forget(id);
  }

  private arm(meetingId: string): void {
    const tracked = this.meetings.get(meetingId);
    const deadline = this.deadline(meetingId);
    if (!tracked || !deadline) return;
    this.clock.clearTimeout(tracked.timer);
    tracked.timer = this.clock.setTimeout(() => {
      const current = this.deadline(meetingId);
      if (!current) return;
      // A timer can fire a little early; re-arm rather than end a meeting too soon.
      if (current.at > this.clock.now()) {
        this.arm(meetingId);
        return;
      }
      this.forget(meetingId);
      this.onExpire(meetingId, current.reason);
    }, Math.max(0, deadline.at - this.clock.now()));
  }
}
