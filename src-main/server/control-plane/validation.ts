import {
  CAPABILITY_VALUES,
  MEETING_LIMITS,
  type AttendeeCapabilities,
  type CapabilityValue,
  type ContentMaxResolution,
  type EchoReduction,
  type MeetingFeaturesConfiguration,
  type VideoMaxResolution,
} from '../../shared/chime-types.js';
import { badRequest } from '../errors.js';

/**
 * Validation of Chime SDK Meetings request bodies. Every function takes the raw
 * parsed JSON and either returns a typed value or throws BadRequestException with
 * a message naming the offending field, as the real service does.
 */

export type JsonObject = Record<string, unknown>;

const UUID = /^[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}$/;
/**
 * The character set Chime allows in ExternalUserId and ExternalMeetingId. Its `\s` is
 * Java's: space, tab, newline, vertical tab, form feed and carriage return. JavaScript's
 * `\s` would also let in U+00A0, U+2028, U+3000, U+FEFF and more.
 */
const EXTERNAL_ID = /^[-_&@+=,(){}[\]/«».:|'"#a-zA-Z0-9À-ÿ \t\n\v\f\r]*$/;
/**
 * Characters that must never reach a roster: C0 and C1 controls (but Chime's whitespace),
 * format characters (bidi overrides and isolates such as U+202E, zero-width characters,
 * U+FEFF), line and paragraph separators, lone surrogates and private-use characters.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}]/u;
const CLIENT_REQUEST_TOKEN = /^[-_a-zA-Z0-9]*$/;
const MEDIA_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;

/** The first character of `value` that could spoof or hide text where it is shown, as `U+XXXX`. */
export function unsafeCharacter(value: string): string | undefined {
  const match = UNSAFE_TEXT.exec(value);
  return match ? `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function requireObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return value as JsonObject;
}

function optionalString(body: JsonObject, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  return value;
}

function requiredString(body: JsonObject, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw badRequest(`${field} is required`);
  return value;
}

function checkLength(field: string, value: string, min: number, max: number): void {
  // Length is counted in Unicode code points, as the service counts characters.
  const length = [...value].length;
  if (length < min || length > max) {
    throw badRequest(`${field} must be between ${min} and ${max} characters long`);
  }
}

export function validateExternalId(field: string, value: string): string {
  checkLength(field, value, 2, 64);
  if (!EXTERNAL_ID.test(value)) throw badRequest(`${field} contains characters that are not allowed`);
  if (value.toLowerCase().startsWith('aws:')) throw badRequest(`${field} values that begin with aws: are reserved`);
  return value;
}

export function validateMeetingIdParam(value: string): string {
  if (!isUuid(value)) throw badRequest(`MeetingId '${value.slice(0, 64)}' is not a valid meeting ID`);
  return value.toLowerCase();
}

export function validateAttendeeIdParam(value: string): string {
  if (!isUuid(value)) throw badRequest(`AttendeeId '${value.slice(0, 64)}' is not a valid attendee ID`);
  return value.toLowerCase();
}

function enumValue<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw badRequest(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function parseCapabilities(value: unknown, field = 'Capabilities'): AttendeeCapabilities {
  const body = requireObject(value, field);
  return {
    Audio: enumValue(`${field}.Audio`, body.Audio, CAPABILITY_VALUES),
    Video: enumValue(`${field}.Video`, body.Video, CAPABILITY_VALUES),
    Content: enumValue(`${field}.Content`, body.Content, CAPABILITY_VALUES),
  };
}

const receives = (value: CapabilityValue): boolean => value === 'SendReceive' || value === 'Receive';
const sends = (value: CapabilityValue): boolean => value === 'SendReceive' || value === 'Send';

/** The service's capability rules against the meeting's features. */
export function checkCapabilitiesAgainstFeatures(caps: AttendeeCapabilities, features: MeetingFeaturesConfiguration | undefined): void {
  // The documented default for such a meeting is Video 'Receive' (content needs it), so only sending is refused.
  if (features?.Video?.MaxResolution === 'None' && sends(caps.Video)) {
    throw badRequest('Video capability cannot be Send or SendReceive because the meeting was created with Video MaxResolution None');
  }
  if (features?.Content?.MaxResolution === 'None' && caps.Content !== 'None') {
    throw badRequest('Content capability must be None because the meeting was created with Content MaxResolution None');
  }
  if (receives(caps.Content) && !receives(caps.Video)) {
    throw badRequest('Content capability SendReceive or Receive requires Video capability SendReceive or Receive');
  }
}

export function defaultCapabilities(features: MeetingFeaturesConfiguration | undefined): AttendeeCapabilities {
  const videoOff = features?.Video?.MaxResolution === 'None';
  const contentOff = features?.Content?.MaxResolution === 'None';
  return {
    Audio: 'SendReceive',
    Video: videoOff ? (contentOff ? 'None' : 'Receive') : 'SendReceive',
    Content: contentOff ? 'None' : 'SendReceive',
  };
}

export interface AttendeeRequest {
  ExternalUserId: string;
  Capabilities?: AttendeeCapabilities;
}

export function parseAttendeeRequest(value: unknown, field: string): AttendeeRequest {
  const body = requireObject(value, field);
  const externalUserId = validateExternalId(`${field}.ExternalUserId`, requiredString(body, 'ExternalUserId'));
  const capabilities = body.Capabilities === undefined ? undefined : parseCapabilities(body.Capabilities, `${field}.Capabilities`);
  return { ExternalUserId: externalUserId, Capabilities: capabilities };
}

export function parseAttendeeList(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw badRequest(`${field} must be an array`);
  if (value.length < 1 || value.length > max) throw badRequest(`${field} must contain between 1 and ${max} items`);
  return value;
}

function parseFeatures(value: unknown): MeetingFeaturesConfiguration | undefined {
  if (value === undefined || value === null) return undefined;
  const body = requireObject(value, 'MeetingFeatures');
  const features: MeetingFeaturesConfiguration = {};
  if (body.Audio !== undefined) {
    const audio = requireObject(body.Audio, 'MeetingFeatures.Audio');
    features.Audio = audio.EchoReduction === undefined ? {} : {
      EchoReduction: enumValue<EchoReduction>('MeetingFeatures.Audio.EchoReduction', audio.EchoReduction, ['AVAILABLE', 'UNAVAILABLE']),
    };
  }
  if (body.Video !== undefined) {
    const video = requireObject(body.Video, 'MeetingFeatures.Video');
    features.Video = video.MaxResolution === undefined ? {} : {
      MaxResolution: enumValue<VideoMaxResolution>('MeetingFeatures.Video.MaxResolution', video.MaxResolution, ['None', 'HD', 'FHD']),
    };
  }
  if (body.Content !== undefined) {
    const content = requireObject(body.Content, 'MeetingFeatures.Content');
    features.Content = content.MaxResolution === undefined ? {} : {
      MaxResolution: enumValue<ContentMaxResolution>('MeetingFeatures.Content.MaxResolution', content.MaxResolution, ['None', 'FHD', 'UHD']),
    };
  }
  if (body.Attendee !== undefined) {
    const attendee = requireObject(body.Attendee, 'MeetingFeatures.Attendee');
    const max = attendee.MaxCount;
    if (max !== undefined) {
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MEETING_LIMITS.maxAttendees) {
        throw badRequest(`MeetingFeatures.Attendee.MaxCount must be an integer between 1 and ${MEETING_LIMITS.maxAttendees}`);
      }
      features.Attendee = { MaxCount: max };
    } else {
      features.Attendee = {};
    }
  }
  return features;
}

function parseTenantIds(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length < 1 || value.length > 5) throw badRequest('TenantIds must be an array of 1 to 5 strings');
  return value.map((item, i) => {
    if (typeof item !== 'string' || !/^[-_a-zA-Z0-9]{2,256}$/.test(item)) throw badRequest(`TenantIds[${i}] is not a valid tenant ID`);
    return item;
  });
}

function parseTags(value: unknown): { Key: string; Value: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length < 1 || value.length > 50) throw badRequest('Tags must be an array of 1 to 50 tags');
  return value.map((item, i) => {
    const tag = requireObject(item, `Tags[${i}]`);
    const key = requiredString(tag, 'Key');
    const val = requiredString(tag, 'Value');
    checkLength(`Tags[${i}].Key`, key, 1, 128);
    checkLength(`Tags[${i}].Value`, val, 0, 256);
    return { Key: key, Value: val };
  });
}

export interface CreateMeetingInput {
  MediaRegion: string;
  ExternalMeetingId: string;
  ClientRequestToken?: string;
  MeetingHostId?: string;
  MeetingFeatures?: MeetingFeaturesConfiguration;
  PrimaryMeetingId?: string;
  TenantIds?: string[];
  Tags?: { Key: string; Value: string }[];
}

export function parseCreateMeeting(value: unknown): CreateMeetingInput {
  const body = requireObject(value, 'Request body');
  const mediaRegion = requiredString(body, 'MediaRegion');
  checkLength('MediaRegion', mediaRegion, 2, 64);
  if (!MEDIA_REGION.test(mediaRegion)) throw badRequest(`MediaRegion '${mediaRegion}' is not a valid region name`);

  const externalMeetingId = requiredString(body, 'ExternalMeetingId');
  const clientRequestToken = optionalString(body, 'ClientRequestToken');
  if (clientRequestToken !== undefined) {
    checkLength('ClientRequestToken', clientRequestToken, 2, 64);
    if (!CLIENT_REQUEST_TOKEN.test(clientRequestToken)) throw badRequest('ClientRequestToken may contain only letters, digits, - and _');
  }
  const meetingHostId = optionalString(body, 'MeetingHostId');
  const primaryMeetingId = optionalString(body, 'PrimaryMeetingId');
  if (primaryMeetingId !== undefined && !isUuid(primaryMeetingId)) throw badRequest('PrimaryMeetingId is not a valid meeting ID');
  if (body.NotificationsConfiguration !== undefined) requireObject(body.NotificationsConfiguration, 'NotificationsConfiguration');

  return {
    MediaRegion: mediaRegion,
    ExternalMeetingId: validateExternalId('ExternalMeetingId', externalMeetingId),
    ClientRequestToken: clientRequestToken,
    MeetingHostId: meetingHostId === undefined ? undefined : validateExternalId('MeetingHostId', meetingHostId),
    MeetingFeatures: parseFeatures(body.MeetingFeatures),
    PrimaryMeetingId: primaryMeetingId?.toLowerCase(),
    TenantIds: parseTenantIds(body.TenantIds),
    Tags: parseTags(body.Tags),
  };
}

export function parseMaxResults(raw: string | null): number {
  if (raw === null) return MEETING_LIMITS.maxListAttendeesResults;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MEETING_LIMITS.maxListAttendeesResults) {
    throw badRequest(`max-results must be an integer between 1 and ${MEETING_LIMITS.maxListAttendeesResults}`);
  }
  return n;
}

export function parseExcludedAttendeeIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MEETING_LIMITS.maxAttendees) {
    throw badRequest(`ExcludedAttendeeIds must be an array of 1 to ${MEETING_LIMITS.maxAttendees} items`);
  }
  return value.map((item, i) => {
    const entry = requireObject(item, `ExcludedAttendeeIds[${i}]`);
    const id = entry.AttendeeId;
    if (typeof id !== 'string' || !isUuid(id)) throw badRequest(`ExcludedAttendeeIds[${i}].AttendeeId is not a valid attendee ID`);
    return id.toLowerCase();
  });
}
