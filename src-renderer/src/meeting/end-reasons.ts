import { t } from '../i18n/i18n';
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
  left: { title: t.end.leftTitle, body: t.end.leftBody },
  ended: { title: t.end.endedTitle, body: t.end.endedBody },
  removed: { title: t.end.removedTitle, body: t.end.removedBody },
  elsewhere: { title: t.end.elsewhereTitle, body: t.end.elsewhereBody },
  'connection-lost': { title: t.end.connectionLostTitle, body: t.end.connectionLostBody },
  failed: { title: t.end.failedTitle, body: t.end.failedBody },
};
