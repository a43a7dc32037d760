import type { Attendee, Meeting } from '../../shared/chime-types.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';

/** Who a room event is about: the attendee, and which of its sessions (camera or content share). */
export interface ActivitySubject {
  meeting: Meeting;
  attendee: Attendee;
  /** `<AttendeeId>` or `<AttendeeId>#content`. */
  participantId: string;
  content: boolean;
}

/**
 * What the signaling rooms report for event notifications. A session replaced by
 * its own reconnect is no change of presence, so it reports nothing.
 */
export interface RoomActivityEvents extends Record<string, unknown> {
  /** A join token was accepted for a signaling connection. */
  authorized: ActivitySubject;
  joined: ActivitySubject;
  /** `dropped`: the connection was lost rather than left with LEAVE. */
  left: ActivitySubject & { dropped: boolean };
  videoStarted: ActivitySubject;
  videoStopped: ActivitySubject;
}

export type RoomActivity = TypedEmitter<RoomActivityEvents>;
