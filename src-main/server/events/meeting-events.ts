import { randomUUID } from 'node:crypto';
import type { Meeting } from '../../shared/chime-types.js';

/**
 * Meeting lifecycle events in the shape Amazon Chime sends to EventBridge, so
 * an application written for Chime's events consumes ours unchanged.
 */

export const CHIME_MEETING_EVENT_TYPES = [
  'MeetingStarted',
  'MeetingEnded',
  'AttendeeAdded',
  'AttendeeDeleted',
  'AttendeeAuthorized',
  'AttendeeJoined',
  'AttendeeLeft',
  'AttendeeDropped',
  'AttendeeVideoStarted',
  'AttendeeVideoStopped',
  'AttendeeContentJoined',
  'AttendeeContentLeft',
  'AttendeeContentVideoStarted',
  'AttendeeContentVideoStopped',
] as const;

export type ChimeMeetingEventType = (typeof CHIME_MEETING_EVENT_TYPES)[number];

export const DETAIL_TYPE = 'Chime Meeting State Change';
export const EVENT_SOURCE = 'aws.chime';
/** The account in our MeetingArn values; there is no AWS account. */
export const EVENT_ACCOUNT = '000000000000';

export interface ChimeMeetingEventDetail {
  version: '0';
  eventType: `chime:${ChimeMeetingEventType}`;
  /** Milliseconds since the epoch, as Chime sends it. */
  timestamp: number;
  meetingId: string;
  externalMeetingId?: string;
  mediaRegion: string;
  attendeeId?: string;
  externalUserId?: string;
}

export interface ChimeMeetingEvent {
  version: '0';
  /** Unique and stable: a retried or replayed delivery carries the same id and the same bytes. */
  id: string;
  'detail-type': typeof DETAIL_TYPE;
  source: typeof EVENT_SOURCE;
  account: string;
  /** ISO 8601 in UTC, to the second, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: ChimeMeetingEventDetail;
}

/** The attendee an event is about; `attendeeId` is `<AttendeeId>#content` for content-share events. */
export interface EventAttendee {
  attendeeId: string;
  externalUserId: string;
}

export function buildMeetingEvent(
  type: ChimeMeetingEventType,
  meeting: Meeting,
  attendee: EventAttendee | undefined,
  nowMs: number,
  id: string = randomUUID(),
): ChimeMeetingEvent {
  const detail: ChimeMeetingEventDetail = {
    version: '0',
    eventType: `chime:${type}`,
    timestamp: nowMs,
    meetingId: meeting.MeetingId,
    ...(meeting.ExternalMeetingId !== undefined ? { externalMeetingId: meeting.ExternalMeetingId } : {}),
    mediaRegion: meeting.MediaRegion,
    ...(attendee ? { attendeeId: attendee.attendeeId, externalUserId: attendee.externalUserId } : {}),
  };
  return {
    version: '0',
    id,
    'detail-type': DETAIL_TYPE,
    source: EVENT_SOURCE,
    account: EVENT_ACCOUNT,
    time: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: meeting.MediaRegion,
    resources: [],
    detail,
  };
}
