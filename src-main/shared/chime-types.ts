/**
 * Wire shapes of the Chime SDK Meetings REST API (API version 2021-07-15), as the
 * official clients serialize them. Shared by the server and any renderer code
 * that displays meeting data, so it stays free of Node and DOM types.
 */

export type CapabilityValue = 'SendReceive' | 'Send' | 'Receive' | 'None';
export const CAPABILITY_VALUES: readonly CapabilityValue[] = ['SendReceive', 'Send', 'Receive', 'None'];

/** Whether a capability lets the attendee send (SendReceive, Send) or receive (SendReceive, Receive) that kind of media. */
export const capabilitySends = (value: CapabilityValue): boolean => value === 'SendReceive' || value === 'Send';
export const capabilityReceives = (value: CapabilityValue): boolean => value === 'SendReceive' || value === 'Receive';

export interface AttendeeCapabilities {
  Audio: CapabilityValue;
  Video: CapabilityValue;
  Content: CapabilityValue;
}

export interface Attendee {
  ExternalUserId: string;
  AttendeeId: string;
  JoinToken: string;
  Capabilities: AttendeeCapabilities;
}

export interface MediaPlacement {
  AudioHostUrl: string;
  AudioFallbackUrl: string;
  SignalingUrl: string;
  TurnControlUrl: string;
  ScreenDataUrl: string;
  ScreenViewingUrl: string;
  ScreenSharingUrl: string;
  EventIngestionUrl?: string;
}

export type VideoMaxResolution = 'None' | 'HD' | 'FHD';
export type ContentMaxResolution = 'None' | 'FHD' | 'UHD';
export type EchoReduction = 'AVAILABLE' | 'UNAVAILABLE';

export interface MeetingFeaturesConfiguration {
  Audio?: { EchoReduction?: EchoReduction };
  Video?: { MaxResolution?: VideoMaxResolution };
  Content?: { MaxResolution?: ContentMaxResolution };
  Attendee?: { MaxCount?: number };
}

export interface Meeting {
  MeetingId: string;
  MeetingHostId?: string;
  ExternalMeetingId?: string;
  MediaRegion: string;
  MediaPlacement: MediaPlacement;
  MeetingFeatures?: MeetingFeaturesConfiguration;
  PrimaryMeetingId?: string;
  TenantIds?: string[];
  MeetingArn: string;
}

export interface CreateAttendeeError {
  ExternalUserId: string;
  ErrorCode: string;
  ErrorMessage: string;
}

/** Exception names the Chime SDK Meetings API models, with their HTTP status codes. */
export const CHIME_EXCEPTIONS = {
  BadRequestException: { status: 400, code: 'BadRequest' },
  UnauthorizedException: { status: 401, code: 'Unauthorized' },
  ForbiddenException: { status: 403, code: 'Forbidden' },
  NotFoundException: { status: 404, code: 'NotFound' },
  ConflictException: { status: 409, code: 'Conflict' },
  LimitExceededException: { status: 400, code: 'ResourceLimitExceeded' },
  ThrottlingException: { status: 429, code: 'Throttling' },
  UnprocessableEntityException: { status: 422, code: 'Unprocessable' },
  ServiceFailureException: { status: 500, code: 'ServiceFailure' },
  ServiceUnavailableException: { status: 503, code: 'ServiceUnavailable' },
} as const;

export type ChimeExceptionName = keyof typeof CHIME_EXCEPTIONS;

/** The meeting quotas that the Chime SDK documents and Chorus enforces. */
export const MEETING_LIMITS = {
  maxAttendees: 250,
  maxContentShares: 2,
  maxVideoPublishers: 16,
  maxDataMessageBytes: 2048,
  /** The longest a data message may ask the server to keep it for late joiners (Chime: 5 minutes). */
  maxDataMessageLifetimeMs: 300_000,
  maxBatchCreateAttendees: 100,
  maxCreateMeetingAttendees: 100,
  maxListAttendeesResults: 100,
} as const;

export const CONTENT_SUFFIX = '#content';
