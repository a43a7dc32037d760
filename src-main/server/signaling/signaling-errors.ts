/**
 * Status and close codes the server uses on the signaling channel, with the
 * meaning amazon-chime-sdk-js gives them (MeetingSessionStatus).
 */
export const AUDIO_STATUS = {
  ok: 200,
  /** Terminal for the old session: the attendee joined again elsewhere. */
  joinedFromAnotherDevice: 301,
  authenticationRejected: 403,
  /** Terminal: no room (attendees or content shares). */
  atCapacity: 409,
  meetingEnded: 410,
  attendeeRemoved: 411,
  /** On a frame's error.status: the client stops sending video and keeps the session. */
  videoViewOnly: 206,
  internalError: 500,
} as const;

export const CLOSE_CODES = {
  normal: 1000,
  /** Frames we cannot decode, or that make no sense in the session's state. */
  badRequest: 4400,
  invalidToken: 4403,
  atCapacity: 4409,
  /** The client treats 4410 during the join as "meeting ended". */
  meetingEnded: 4410,
  removed: 4411,
  replaced: 4301,
  /** A client frame type past its hard per-second cap (see frame-limits.ts): terminal, no SDK sends that much. */
  tooManyFrames: 4429,
  /** 4500-4599: the client reconnects. */
  internalError: 4500,
  /** The client read too little of what was sent: the session's unsent bytes passed the cap. It may reconnect. */
  sendBufferFull: 4509,
} as const;

/** A protocol violation by one session: the session is closed with `closeCode`, nobody else is affected. */
export class SignalingProtocolError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SignalingProtocolError';
  }
}
