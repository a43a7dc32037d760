import type { EndReason } from '../state/session-store';

/**
 * MeetingSessionStatusCode values of amazon-chime-sdk-js 3.32.0 that end a
 * meeting for a reason people should see. Numeric, so this table needs no SDK
 * import; a unit test checks them against the SDK's own enum.
 */
export const STATUS = {
  Left: 1,
  AudioJoinedFromAnotherDevice: 2,
  AudioAuthenticationRejected: 3,
  AudioCallAtCapacity: 4,
  MeetingEnded: 5,
  AudioAttendeeRemoved: 22,
} as const;

export function endReasonFor(statusCode: number): EndReason {
  switch (statusCode) {
    case STATUS.Left:
      return 'left';
    case STATUS.MeetingEnded:
      return 'ended';
    case STATUS.AudioAttendeeRemoved:
      return 'removed';
    case STATUS.AudioJoinedFromAnotherDevice:
      return 'elsewhere';
    case STATUS.AudioAuthenticationRejected:
    case STATUS.AudioCallAtCapacity:
      return 'failed';
    default:
      return 'connection-lost';
  }
}

export const END_COPY: Record<EndReason, { title: string; body: string }> = {
  left: { title: 'You left the meeting', body: 'Thanks for joining.' },
  ended: { title: 'The meeting has ended', body: 'The host ended the meeting for everyone, or it closed after everyone left.' },
  removed: { title: 'You were removed from the meeting', body: 'The host removed you. You can only rejoin if they invite you again.' },
  elsewhere: { title: 'You joined from another window', body: 'This meeting continues in your other window or device.' },
  'connection-lost': { title: 'Connection lost', body: 'The connection to the meeting server dropped and could not be restored.' },
  failed: { title: 'Could not stay in the meeting', body: 'The server refused this session (it may be full).' },
};
