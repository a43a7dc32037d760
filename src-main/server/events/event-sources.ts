import type { Meeting } from '../../shared/chime-types.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { MeetingServiceEvents } from '../control-plane/meeting-service.js';
import type { MeetingStore, ReportedPresence } from '../control-plane/meeting-store.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import type { ActivitySubject, RoomActivity } from '../signaling/room-activity.js';
import { buildMeetingEvent, type ChimeMeetingEvent, type ChimeMeetingEventType, type EventAttendee } from './meeting-events.js';

export interface MeetingEventSourceEvents extends Record<string, unknown> {
  event: ChimeMeetingEvent;
}

/** Where what receivers have been told about presence is kept, so a restarted server can carry on (the meeting store). */
export interface PresenceLedger {
  setPresence(meetingId: string, participantId: string, presence: ReportedPresence | undefined): Promise<void>;
}

export interface RestoredPresence {
  ledger: PresenceLedger;
  /** What an earlier run had reported and not cleared, by meeting id, with the meeting. */
  reported: Map<string, { meeting: Meeting; participants: Map<string, ReportedPresence> }>;
  /** How long a participant who was in a meeting at the restart has to reconnect before it is reported dropped. */
  reconnectGraceMs: number;
  clock: Clock;
}

export interface MeetingEventSourceDeps {
  service: { events: TypedEmitter<MeetingServiceEvents> };
  activity: RoomActivity;
  logger: Logger;
  now?: () => number;
  /** Presence kept across restarts; without it, presence is tracked for this run only. */
  presence?: RestoredPresence;
}

/** The SDK reconnects for two minutes (its default reconnect timeout) before giving up. */
export const RECONNECT_GRACE_MS = 120_000;

/**
 * Turns what the control plane and the signaling rooms report into Chime
 * meeting events, in causal order.
 *
 * Who leaves because the meeting ends or the attendee is deleted is reported
 * here, from what receivers were told, before the deletion: so the order is
 * leaves, deletions, MeetingEnded whichever listener the service calls first
 * (the rooms report the same leaves when they close; those find nothing left
 * to report).
 *
 * It also keeps, per participant, what receivers have been told (joined, video
 * on), and reports only changes of that: a receiver sees each join ended by one
 * leave or drop and each video start by one stop. Across a restart this is what
 * lets a meeting carry on: a participant who reconnects is not reported joined
 * twice, one who does not come back within the grace period is reported dropped,
 * and one still reported present when its meeting ends is reported dropped first.
 */
export class MeetingEventSource {
  readonly events: TypedEmitter<MeetingEventSourceEvents>;
  /** Per meeting: participants reported joined and not yet reported gone. */
  private readonly reported = new Map<string, Map<string, ReportedPresence>>();
  /** Per meeting: participants reported joined by an earlier run that have not reconnected yet. */
  private readonly awaitingReturn = new Map<string, { meeting: Meeting; ids: Set<string> }>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly now: () => number;
  private graceTimer: unknown;

  constructor(private readonly deps: MeetingEventSourceDeps) {
    this.now = deps.now ?? Date.now;
    this.events = new TypedEmitter((error) => deps.logger.error('event_listener_failed', { error }));
    const restored = deps.presence;
    if (restored && restored.reported.size > 0) {
      for (const [meetingId, { meeting, participants }] of restored.reported) {
        this.reported.set(meetingId, new Map([...participants].map(([id, p]) => [id, { ...p }])));
        this.awaitingReturn.set(meetingId, { meeting, ids: new Set(participants.keys()) });
      }
      this.graceTimer = restored.clock.setTimeout(() => this.dropUnreturned(), restored.reconnectGraceMs);
    }
    const svc = deps.service.events;
    const act = deps.activity;
    this.unsubscribe.push(
      svc.on('meetingCreated', ({ meeting }) => this.emit('MeetingStarted', meeting)),
      svc.on('attendeeCreated', ({ meeting, attendee }) =>
        this.emit('AttendeeAdded', meeting, { attendeeId: attendee.AttendeeId, externalUserId: attendee.ExternalUserId })),
      svc.on('meetingEnding', ({ meeting }) => {
        for (const id of [...(this.reported.get(meeting.MeetingId)?.keys() ?? [])]) this.reportGoneByServer(meeting, id);
      }),
      svc.on('attendeeDeleted', ({ meeting, attendee }) => {
        for (const id of [attendee.AttendeeId, `${attendee.AttendeeId}#content`]) this.reportGoneByServer(meeting, id);
        this.emit('AttendeeDeleted', meeting, { attendeeId: attendee.AttendeeId, externalUserId: attendee.ExternalUserId });
      }),
      svc.on('meetingEnded', ({ meeting }) => {
        this.reported.delete(meeting.MeetingId);
        this.awaitingReturn.delete(meeting.MeetingId);
        this.emit('MeetingEnded', meeting);
      }),
      act.on('authorized', (s) => this.emitFor(s, 'AttendeeAuthorized', 'AttendeeAuthorized')),
      act.on('joined', (s) => this.joined(s)),
      act.on('left', (s) => this.reportGone(s.meeting, s.participantId, s.dropped)),
      act.on('videoStarted', (s) => this.video(s, true)),
      act.on('videoStopped', (s) => this.video(s, false)),
    );
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.deps.presence?.clock.clearTimeout(this.graceTimer);
    this.reported.clear();
    this.awaitingReturn.clear();
  }

  private joined(s: ActivitySubject): void {
    const meetingId = s.meeting.MeetingId;
    const awaited = this.awaitingReturn.get(meetingId);
    if (awaited?.ids.delete(s.participantId)) {
      // Back after a restart: receivers were told it joined, and nothing since.
      if (awaited.ids.size === 0) this.awaitingReturn.delete(meetingId);
      return;
    }
    if (this.reported.get(meetingId)?.has(s.participantId)) return;
    this.record(meetingId, s.participantId, { attendeeId: s.attendee.AttendeeId, externalUserId: s.attendee.ExternalUserId, content: s.content, video: false });
    this.emitFor(s, 'AttendeeJoined', 'AttendeeContentJoined');
  }

  private video(s: ActivitySubject, on: boolean): void {
    const entry = this.reported.get(s.meeting.MeetingId)?.get(s.participantId);
    if (entry?.video === on) return;
    if (entry) this.record(s.meeting.MeetingId, s.participantId, { ...entry, video: on });
    this.emitFor(s, on ? 'AttendeeVideoStarted' : 'AttendeeVideoStopped', on ? 'AttendeeContentVideoStarted' : 'AttendeeContentVideoStopped');
  }

  /** A participant left or dropped: its video, if reported on, stops first. Chime has no "content dropped": a lost content share has left. */
  private reportGone(meeting: Meeting, participantId: string, dropped: boolean): void {
    const meetingId = meeting.MeetingId;
    const entry = this.reported.get(meetingId)?.get(participantId);
    this.awaitingReturn.get(meetingId)?.ids.delete(participantId);
    if (!entry) return;
    const subject = { attendeeId: participantId, externalUserId: entry.externalUserId };
    if (entry.video) this.emit(entry.content ? 'AttendeeContentVideoStopped' : 'AttendeeVideoStopped', meeting, subject);
    this.emit(entry.content ? 'AttendeeContentLeft' : dropped ? 'AttendeeDropped' : 'AttendeeLeft', meeting, subject);
    this.record(meetingId, participantId, undefined);
  }

  /**
   * The server removes a participant (its attendee deleted, its meeting ended): one
   * connected now has left; one awaited since a restart that never came back has dropped.
   */
  private reportGoneByServer(meeting: Meeting, participantId: string): void {
    this.reportGone(meeting, participantId, this.awaitingReturn.get(meeting.MeetingId)?.ids.has(participantId) ?? false);
  }

  /** The grace period after a restart is over: whoever has not reconnected has dropped. */
  private dropUnreturned(): void {
    this.graceTimer = undefined;
    const awaited = [...this.awaitingReturn.values()];
    this.awaitingReturn.clear();
    for (const { meeting, ids } of awaited) for (const id of ids) this.reportGone(meeting, id, true);
  }

  private record(meetingId: string, participantId: string, presence: ReportedPresence | undefined): void {
    const map = this.reported.get(meetingId) ?? new Map<string, ReportedPresence>();
    if (presence) map.set(participantId, presence);
    else map.delete(participantId);
    if (map.size > 0) this.reported.set(meetingId, map);
    else this.reported.delete(meetingId);
    this.deps.presence?.ledger.setPresence(meetingId, participantId, presence).catch((error: unknown) =>
      this.deps.logger.error('presence_write_failed', { meetingId, participantId, error }));
  }

  private emitFor(subject: ActivitySubject, camera: ChimeMeetingEventType, content: ChimeMeetingEventType): void {
    this.emit(subject.content ? content : camera, subject.meeting, { attendeeId: subject.participantId, externalUserId: subject.attendee.ExternalUserId });
  }

  private emit(type: ChimeMeetingEventType, meeting: Meeting, attendee?: EventAttendee): void {
    this.events.emit('event', buildMeetingEvent(type, meeting, attendee, this.now()));
  }
}

/** What `store` holds of an earlier run's reported presence, with each meeting, for MeetingEventSource. */
export async function restoredPresence(
  store: PresenceLedger & Pick<MeetingStore, 'listMeetings' | 'reportedPresence'>,
  clock: Clock,
  reconnectGraceMs = RECONNECT_GRACE_MS,
): Promise<RestoredPresence> {
  const byMeeting = await store.reportedPresence();
  const reported: RestoredPresence['reported'] = new Map();
  for (const record of await store.listMeetings()) {
    const participants = byMeeting.get(record.meeting.MeetingId);
    if (participants && participants.size > 0) reported.set(record.meeting.MeetingId, { meeting: record.meeting, participants });
  }
  return { ledger: store, reported, reconnectGraceMs, clock };
}
