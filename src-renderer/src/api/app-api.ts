/**
 * The Chorus app API (/app/api/ on a Chorus server), as the renderer uses it.
 * Errors keep the server's Chime exception name, so screens can tell a wrong
 * passcode (ForbiddenException) from an unknown meeting (NotFoundException)
 * from a server that cannot be reached at all ('Unreachable').
 */

export interface ServerInfo {
  name: string;
  version: string;
  fingerprint?: string;
  urls: string[];
  /** The operator lets the web app create meetings (`--allow-web-hosting`). */
  webHosting?: boolean;
}

export interface MeetingListing {
  meetingCode: string;
  name: string;
  attendees: number;
  passcodeRequired: boolean;
  startedAt: string;
}

export interface MeetingDescription {
  meetingCode: string;
  name: string;
  passcodeRequired: boolean;
}

export interface CreatedMeeting {
  meetingCode: string;
  meetingId: string;
  name: string;
  passcodeRequired: boolean;
  hostKey: string;
}

/** Meeting and Attendee exactly as CreateMeeting/CreateAttendee return them. */
export interface JoinInfo {
  Meeting: { MeetingId: string; MediaPlacement: Record<string, string>; [key: string]: unknown };
  Attendee: { AttendeeId: string; ExternalUserId: string; JoinToken: string; [key: string]: unknown };
  isHost: boolean;
}

export type ApiFailure = 'ForbiddenException' | 'NotFoundException' | 'BadRequestException' | 'LimitExceededException' | 'ThrottlingException' | 'Unreachable' | 'ServerError';

export class AppApiError extends Error {
  constructor(
    readonly failure: ApiFailure,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AppApiError';
  }
}

const KNOWN: readonly ApiFailure[] = ['ForbiddenException', 'NotFoundException', 'BadRequestException', 'LimitExceededException', 'ThrottlingException'];

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface AppApi {
  readonly serverUrl: string;
  server(): Promise<ServerInfo>;
  listMeetings(): Promise<MeetingListing[]>;
  describe(code: string): Promise<MeetingDescription>;
  /** Needs the bearer token unless the server allows web hosting. */
  create(input: { name: string; passcode?: string }, bearerToken?: string): Promise<CreatedMeeting>;
  join(code: string, input: { displayName: string; passcode?: string; hostKey?: string }): Promise<JoinInfo>;
  end(code: string, hostKey: string): Promise<void>;
  removeAttendee(code: string, hostKey: string, attendeeId: string): Promise<void>;
  muteAttendee(code: string, hostKey: string, attendeeId: string): Promise<void>;
}

export function createAppApi(serverUrl: string, fetchImpl: FetchLike = (input, init) => fetch(input, init)): AppApi {
  const base = serverUrl.replace(/\/+$/, '');
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}/app/api${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new AppApiError('Unreachable', `Cannot reach the server at ${base} (${error instanceof Error ? error.message : String(error)})`, 0);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const type = res.headers.get('x-amzn-ErrorType') ?? '';
      const failure = (KNOWN as readonly string[]).includes(type) ? (type as ApiFailure) : res.status >= 500 || res.status === 0 ? 'ServerError' : 'BadRequestException';
      const message = typeof (json as { Message?: unknown } | undefined)?.Message === 'string' ? (json as { Message: string }).Message : `HTTP ${res.status}`;
      throw new AppApiError(failure, message, res.status);
    }
    if (json === undefined) throw new AppApiError('ServerError', `The server at ${base} did not answer with JSON; is it a Chorus server?`, res.status);
    return json as T;
  }
  const meeting = (code: string): string => `/meetings/${encodeURIComponent(code)}`;
  return {
    serverUrl: base,
    server: () => call<ServerInfo>('GET', '/server'),
    listMeetings: async () => (await call<{ meetings: MeetingListing[] }>('GET', '/meetings')).meetings,
    describe: (code) => call<MeetingDescription>('GET', meeting(code)),
    create: (input, bearerToken) => call<CreatedMeeting>('POST', '/meetings', input, bearerToken ? { Authorization: `Bearer ${bearerToken}` } : {}),
    join: (code, input) => call<JoinInfo>('POST', `${meeting(code)}/join`, input),
    end: async (code, hostKey) => {
      await call('POST', `${meeting(code)}/end`, undefined, { 'X-Chorus-Host-Key': hostKey });
    },
    removeAttendee: async (code, hostKey, attendeeId) => {
      await call('POST', `${meeting(code)}/attendees/${encodeURIComponent(attendeeId)}/remove`, undefined, { 'X-Chorus-Host-Key': hostKey });
    },
    muteAttendee: async (code, hostKey, attendeeId) => {
      await call('POST', `${meeting(code)}/attendees/${encodeURIComponent(attendeeId)}/mute`, undefined, { 'X-Chorus-Host-Key': hostKey });
    },
  };
}
