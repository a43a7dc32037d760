import type { Meeting } from '../../shared/chime-types.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import type { MeetingServiceEvents } from '../control-plane/meeting-service.js';
import type { Logger } from '../logger.js';
import type { ActivitySubject, RoomActivity } from '../signaling/room-activity.js';
import { buildMeetingEvent, type ChimeMeetingEvent, type ChimeMeetingEventType, type EventAttendee } from './meeting-events.js';

export interface MeetingEventSourceEvents extends Record<string, unknown> {
  event: ChimeMeetingEvent;
}

export interface MeetingEventSourceDeps {
  service: { events: TypedEmitter<MeetingServiceEvents> };
  activity: RoomActivity;
  logger: Logger;
  now?: () => number;
}

/**
 * Turns what the control plane and the signaling rooms report into Chime
 * meeting events, in causal order.
 *
 * Ending a meeting makes the service report its attendees deleted and then the
 * meeting ended; the rooms report who left only when they close, on that last
 * report. So attendee deletions caused by the meeting's end are held back and
 * released after the leaves. This relies on being subscribed after the
 * signaling gateway, which closes the rooms: create it after the gateway.
 */
export class MeetingEventSource {
  readonly events: TypedEmitter<MeetingEventSourceEvents>;
  private readonly heldDeletions = new Map<string, EventAttendee[]>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly now: () => number;

  constructor(deps: MeetingEventSourceDeps) {
    this.now = deps.now ?? Date.now;
    this.events = new TypedEmitter((error) => deps.logger.error('event_listener_failed', { error }));
    const svc = deps.service.events;
    const act = deps.activity;
    this.unsubscribe.push(
      svc.on('meetingCreated', ({ meeting }) => this.emit('MeetingStarted', meeting)),
      svc.on('attendeeCreated', ({ meeting, attendee }) =>
        this.emit('AttendeeAdded', meeting, { attendeeId: attendee.AttendeeId, externalUserId: attendee.ExternalUserId })),
      svc.on('attendeeDeleted', ({ meeting, attendee, reason }) => {
        const subject = { attendeeId: attendee.AttendeeId, externalUserId: attendee.ExternalUserId };
        if (reason === 'deleted') {
          this.emit('AttendeeDeleted', meeting, subject);
          return;
        }
        const held = this.heldDeletions.get(meeting.MeetingId) ?? [];
        held.push(subject);
        this.heldDeletions.set(meeting.MeetingId, held);
      }),
      svc.on('meetingEnded', ({ meeting }) => {
        for (const subject of this.heldDeletions.get(meeting.MeetingId) ?? []) this.emit('AttendeeDeleted', meeting, subject);
        this.heldDeletions.delete(meeting.MeetingId);
        this.emit('MeetingEnded', meeting);
      }),
      act.on('authorized', (s) => this.emitFor(s, 'AttendeeAuthorized', 'AttendeeAuthorized')),
      act.on('joined', (s) => this.emitFor(s, 'AttendeeJoined', 'AttendeeContentJoined')),
      // Chime has no "content dropped": a lost content share has left.
      act.on('left', (s) => this.emitFor(s, s.dropped ? 'AttendeeDropped' : 'AttendeeLeft', 'AttendeeContentLeft')),
      act.on('videoStarted', (s) => this.emitFor(s, 'AttendeeVideoStarted', 'AttendeeContentVideoStarted')),
      act.on('videoStopped', (s) => this.emitFor(s, 'AttendeeVideoStopped', 'AttendeeContentVideoStopped')),
    );
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.heldDeletions.clear();
  }

  private emitFor(subject: ActivitySubject, camera: ChimeMeetingEventType, content: ChimeMeetingEventType): void {
    this.emit(subject.content ? content : camera, subject.meeting, { attendeeId: subject.participantId, externalUserId: subject.attendee.ExternalUserId });
  }

  private emit(type: ChimeMeetingEventType, meeting: Meeting, attendee?: EventAttendee): void {
    this.events.emit('event', buildMeetingEvent(type, meeting, attendee, this.now()));
  }
}
