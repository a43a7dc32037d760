/**
 * Maps an HTTP method, path and `operation=` query to a Chime SDK Meetings
 * operation. The table mirrors the service's REST bindings exactly, so the
 * official SDK's requests land on the same operations they would in AWS.
 */

export type OperationName =
  | 'CreateMeeting'
  | 'CreateMeetingWithAttendees'
  | 'GetMeeting'
  | 'DeleteMeeting'
  | 'CreateAttendee'
  | 'BatchCreateAttendee'
  | 'ListAttendees'
  | 'GetAttendee'
  | 'DeleteAttendee'
  | 'UpdateAttendeeCapabilities'
  | 'BatchUpdateAttendeeCapabilitiesExcept'
  | 'StartMeetingTranscription'
  | 'StopMeetingTranscription'
  | 'TagResource'
  | 'UntagResource'
  | 'ListTagsForResource';

export type RouteMatch =
  | { kind: 'operation'; operation: OperationName; meetingId?: string; attendeeId?: string }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'unknown-operation'; operation: string }
  | { kind: 'not-found' };

interface RouteDef {
  method: string;
  /** Path segments; `{MeetingId}` and `{AttendeeId}` capture. */
  path: string[];
  /** The `operation=` query value that selects this binding, or null for none. */
  queryOperation: string | null;
  operation: OperationName;
}

const route = (method: string, template: string, operation: OperationName): RouteDef => {
  const [path, query] = template.split('?') as [string, string | undefined];
  return { method, path: path.split('/').filter(Boolean), queryOperation: query ? query.replace('operation=', '') : null, operation };
};

const ROUTES: RouteDef[] = [
  route('POST', '/meetings', 'CreateMeeting'),
  route('POST', '/meetings?operation=create-attendees', 'CreateMeetingWithAttendees'),
  route('GET', '/meetings/{MeetingId}', 'GetMeeting'),
  route('DELETE', '/meetings/{MeetingId}', 'DeleteMeeting'),
  route('POST', '/meetings/{MeetingId}/attendees', 'CreateAttendee'),
  route('POST', '/meetings/{MeetingId}/attendees?operation=batch-create', 'BatchCreateAttendee'),
  route('GET', '/meetings/{MeetingId}/attendees', 'ListAttendees'),
  route('PUT', '/meetings/{MeetingId}/attendees/capabilities?operation=batch-update-except', 'BatchUpdateAttendeeCapabilitiesExcept'),
  route('GET', '/meetings/{MeetingId}/attendees/{AttendeeId}', 'GetAttendee'),
  route('DELETE', '/meetings/{MeetingId}/attendees/{AttendeeId}', 'DeleteAttendee'),
  route('PUT', '/meetings/{MeetingId}/attendees/{AttendeeId}/capabilities', 'UpdateAttendeeCapabilities'),
  route('POST', '/meetings/{MeetingId}/transcription?operation=start', 'StartMeetingTranscription'),
  route('POST', '/meetings/{MeetingId}/transcription?operation=stop', 'StopMeetingTranscription'),
  route('POST', '/tags?operation=tag-resource', 'TagResource'),
  route('POST', '/tags?operation=untag-resource', 'UntagResource'),
  route('GET', '/tags', 'ListTagsForResource'),
];

function matchPath(template: string[], segments: string[]): { meetingId?: string; attendeeId?: string } | undefined {
  if (template.length !== segments.length) return undefined;
  const params: { meetingId?: string; attendeeId?: string } = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const s = segments[i]!;
    if (t === '{MeetingId}') params.meetingId = s;
    else if (t === '{AttendeeId}') params.attendeeId = s;
    else if (t !== s) return undefined;
  }
  return params;
}

/** True when the path belongs to the Chime API surface (so its errors use the AWS JSON shape). */
export function isApiPath(pathname: string): boolean {
  return pathname === '/meetings' || pathname.startsWith('/meetings/') || pathname === '/tags';
}

export function matchRoute(method: string, pathname: string, operationQuery: string | null): RouteMatch {
  let segments: string[];
  try {
    segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { kind: 'not-found' };
  }
  const byPath = ROUTES.map((def) => ({ def, params: matchPath(def.path, segments) })).filter((m) => m.params !== undefined);
  if (byPath.length === 0) return { kind: 'not-found' };
  // A literal segment ('capabilities') beats a capture when both match.
  const byMethod = byPath.filter((m) => m.def.method === method);
  if (byMethod.length === 0) return { kind: 'method-not-allowed', allowed: [...new Set(byPath.map((m) => m.def.method))] };
  const exact = byMethod.find((m) => m.def.queryOperation === operationQuery);
  if (exact) return { kind: 'operation', operation: exact.def.operation, ...exact.params };
  if (operationQuery !== null) return { kind: 'unknown-operation', operation: operationQuery };
  return { kind: 'not-found' };
}
