import { MEETING_LIMITS } from '../../shared/chime-types.js';
import { badRequest } from '../errors.js';
import type { MeetingService } from './meeting-service.js';
import type { OperationName } from './routes.js';
import {
  parseAttendeeList,
  parseAttendeeRequest,
  parseCapabilities,
  parseCreateMeeting,
  parseExcludedAttendeeIds,
  parseMaxResults,
  requireObject,
  validateAttendeeIdParam,
  validateMeetingIdParam,
} from './validation.js';

export interface OperationRequest {
  operation: OperationName;
  meetingId?: string;
  attendeeId?: string;
  query: URLSearchParams;
  /** Parsed JSON body; `{}` when the request had none. */
  body: unknown;
}

export interface OperationResponse {
  status: 200 | 204;
  body?: unknown;
}

/** NextToken for ListAttendees: opaque to clients, bound to the meeting it pages through. */
export function encodeNextToken(meetingId: string, afterSeq: number): string {
  return Buffer.from(JSON.stringify({ m: meetingId, a: afterSeq })).toString('base64url');
}

export function decodeNextToken(token: string, meetingId: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { m?: unknown; a?: unknown };
    if (parsed.m === meetingId && typeof parsed.a === 'number' && Number.isInteger(parsed.a) && parsed.a >= 0) return parsed.a;
  } catch {
    // fall through to the error below
  }
  throw badRequest('NextToken is not valid for this meeting');
}

const ok = (body: unknown): OperationResponse => ({ status: 200, body });
const noContent: OperationResponse = { status: 204 };

/** Executes one validated Chime SDK Meetings operation against the meeting service. */
export async function executeOperation(service: MeetingService, request: OperationRequest): Promise<OperationResponse> {
  const meetingId = (): string => validateMeetingIdParam(request.meetingId ?? '');
  const attendeeId = (): string => validateAttendeeIdParam(request.attendeeId ?? '');
  const body = (): Record<string, unknown> => requireObject(request.body, 'Request body');

  switch (request.operation) {
    case 'CreateMeeting': {
      const { meeting } = await service.createMeeting(parseCreateMeeting(request.body));
      return ok({ Meeting: meeting });
    }
    case 'CreateMeetingWithAttendees': {
      const input = parseCreateMeeting(request.body);
      const items = parseAttendeeList(body().Attendees, 'Attendees', MEETING_LIMITS.maxCreateMeetingAttendees)
        .map((item, i) => parseAttendeeRequest(item, `Attendees[${i}]`));
      const { meeting } = await service.createMeeting(input);
      // A retried idempotent call returns the same attendees: ExternalUserId is their idempotency key.
      const { attendees, errors } = await service.createAttendees(meeting.MeetingId, items);
      return ok({ Meeting: meeting, Attendees: attendees, Errors: errors });
    }
    case 'GetMeeting':
      return ok({ Meeting: await service.getMeeting(meetingId()) });
    case 'DeleteMeeting':
      await service.deleteMeeting(meetingId());
      return noContent;
    case 'CreateAttendee': {
      const id = meetingId();
      return ok({ Attendee: await service.createAttendee(id, parseAttendeeRequest(request.body, 'Request body')) });
    }
    case 'BatchCreateAttendee': {
      const id = meetingId();
      const items = parseAttendeeList(body().Attendees, 'Attendees', MEETING_LIMITS.maxBatchCreateAttendees)
        .map((item, i) => parseAttendeeRequest(item, `Attendees[${i}]`));
      const { attendees, errors } = await service.createAttendees(id, items);
      return ok({ Attendees: attendees, Errors: errors });
    }
    case 'ListAttendees': {
      const id = meetingId();
      const limit = parseMaxResults(request.query.get('max-results'));
      const token = request.query.get('next-token');
      const afterSeq = token === null || token === '' ? 0 : decodeNextToken(token, id);
      const page = await service.listAttendees(id, afterSeq, limit);
      return ok({ Attendees: page.attendees, NextToken: page.nextAfterSeq === undefined ? undefined : encodeNextToken(id, page.nextAfterSeq) });
    }
    case 'GetAttendee':
      return ok({ Attendee: await service.getAttendee(meetingId(), attendeeId()) });
    case 'DeleteAttendee':
      await service.deleteAttendee(meetingId(), attendeeId());
      return noContent;
    case 'UpdateAttendeeCapabilities': {
      const [mId, aId] = [meetingId(), attendeeId()];
      const capabilities = parseCapabilities(body().Capabilities);
      return ok({ Attendee: await service.updateAttendeeCapabilities(mId, aId, capabilities) });
    }
    case 'BatchUpdateAttendeeCapabilitiesExcept': {
      const id = meetingId();
      const excluded = parseExcludedAttendeeIds(body().ExcludedAttendeeIds);
      const capabilities = parseCapabilities(body().Capabilities);
      await service.updateCapabilitiesExcept(id, excluded, capabilities);
      return ok({});
    }
    case 'StartMeetingTranscription':
    case 'StopMeetingTranscription':
      throw badRequest(`${request.operation} is not supported: Chorus does not send meeting audio to a cloud transcription service`);
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource':
      throw badRequest(`${request.operation} is not supported by Chorus`);
    default: {
      const unreachable: never = request.operation;
      throw badRequest(`Unsupported operation ${String(unreachable)}`);
    }
  }
}
