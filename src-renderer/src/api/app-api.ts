/**
 * The Chorus app API (/app/api/ on a Chorus server), as the renderer uses it.
 * The request and response shapes are the shared contract (src-main/shared/app-api.ts).
 * Errors keep the server's Chime exception name and the app's reason, so screens
 * can tell a wrong passcode from a ban from an unknown meeting from a server that
 * cannot be reached at all ('Unreachable').
 */
import {
  APP_ERROR_REASONS,
  ATTENDEE_ID_HEADER,
  HOST_KEY_HEADER,
  JOIN_TOKEN_HEADER,
  type AppErrorReason,
  type CreatedMeeting,
  type CreateMeetingRequest,
  type JoinRequest,
  type JoinResponse,
  type LiveRequest,
  type LiveResponse,
  type LobbyWaitResult,
  type MeetingDescription,
  type MeetingListing,
  type ModerationAction,
  type ServerInfo,
} from '../../../src-main/shared/app-api.js';

export type { CreatedMeeting, JoinResponse, MeetingDescription, MeetingListing, ServerInfo };
export type { JoinResult as JoinInfo } from '../../../src-main/shared/app-api.js';

export type ApiFailure = 'ForbiddenException' | 'NotFoundException' | 'BadRequestException' | 'LimitExceededException' | 'ThrottlingException' | 'Unreachable' | 'ServerError';

export class AppApiError extends Error {
  constructor(
    readonly failure: ApiFailure,
    message: string,
    readonly status: number,
    readonly reason?: AppErrorReason,
  ) {
    super(message);
    this.name = 'AppApiError';
  }
}

const KNOWN: readonly ApiFailure[] = ['ForbiddenException', 'NotFoundException', 'BadRequestException', 'LimitExceededException', 'ThrottlingException'];

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** An attendee acting for itself: its id and the JoinToken the server gave it. */
export interface AttendeeAuth {
  attendeeId: string;
  joinToken: string;
}

export interface AppApi {
  readonly serverUrl: string;
  server(signal?: AbortSignal): Promise<ServerInfo>;
  listMeetings(): Promise<MeetingListing[]>;
  describe(code: string): Promise<MeetingDescription>;
  /** Needs the bearer token unless the server allows web hosting. */
  create(input: CreateMeetingRequest, bearerToken?: string): Promise<CreatedMeeting>;
  /** Joins, or — in a meeting with a lobby — gets a ticket to wait with. */
  join(code: string, input: JoinRequest): Promise<JoinResponse>;
  lobbyWait(code: string, ticket: string, signal?: AbortSignal): Promise<LobbyWaitResult>;
  lobbyLeave(code: string, ticket: string): Promise<void>;
  live(code: string, auth: AttendeeAuth, request: LiveRequest, signal?: AbortSignal): Promise<LiveResponse>;
  act(code: string, auth: AttendeeAuth, action: ModerationAction): Promise<void>;
  end(code: string, hostKey: string): Promise<void>;
  removeAttendee(code: string, auth: string | AttendeeAuth, attendeeId: string): Promise<void>;
  muteAttendee(code: string, auth: string | AttendeeAuth, attendeeId: string): Promise<void>;
}

function authHeaders(auth: string | AttendeeAuth): Record<string, string> {
  return typeof auth === 'string' ? { [HOST_KEY_HEADER]: auth } : { [ATTENDEE_ID_HEADER]: auth.attendeeId, [JOIN_TOKEN_HEADER]: auth.joinToken };
}

export function createAppApi(serverUrl: string, fetchImpl: FetchLike = (input, init) => fetch(input, init)): AppApi {
  const base = serverUrl.replace(/\/+$/, '');
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}/app/api${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
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
      const o = (json ?? {}) as { Message?: unknown; Reason?: unknown };
      const message = typeof o.Message === 'string' ? o.Message : `HTTP ${res.status}`;
      const reason = (APP_ERROR_REASONS as readonly unknown[]).includes(o.Reason) ? (o.Reason as AppErrorReason) : undefined;
      throw new AppApiError(failure, message, res.status, reason);
    }
    if (json === undefined) throw new AppApiError('ServerError', `The server at ${base} did not answer with JSON; is it a Chorus server?`, res.status);
    return json as T;
  }
  const meeting = (code: string): string => `/meetings/${encodeURIComponent(code)}`;
  const attendee = (code: string, id: string, action: string): string => `${meeting(code)}/attendees/${encodeURIComponent(id)}/${action}`;
  return {
    serverUrl: base,
    server: (signal) => call<ServerInfo>('GET', '/server', undefined, {}, signal),
    listMeetings: async () => (await call<{ meetings: MeetingListing[] }>('GET', '/meetings')).meetings,
    describe: (code) => call<MeetingDescription>('GET', meeting(code)),
    create: (input, bearerToken) => call<CreatedMeeting>('POST', '/meetings', input, bearerToken ? { Authorization: `Bearer ${bearerToken}` } : {}),
    join: (code, input) => call<JoinResponse>('POST', `${meeting(code)}/join`, input),
    lobbyWait: (code, ticket, signal) => call<LobbyWaitResult>('POST', `${meeting(code)}/lobby/wait`, { ticket }, {}, signal),
    lobbyLeave: async (code, ticket) => {
      await call('POST', `${meeting(code)}/lobby/leave`, { ticket });
    },
    live: (code, auth, request, signal) => call<LiveResponse>('POST', `${meeting(code)}/live`, request, authHeaders(auth), signal),
    act: async (code, auth, action) => {
      await call('POST', `${meeting(code)}/actions`, action, authHeaders(auth));
    },
    end: async (code, hostKey) => {
      await call('POST', `${meeting(code)}/end`, undefined, authHeaders(hostKey));
    },
    removeAttendee: async (code, auth, attendeeId) => {
      await call('POST', attendee(code, attendeeId, 'remove'), undefined, authHeaders(auth));
    },
    muteAttendee: async (code, auth, attendeeId) => {
      await call('POST', attendee(code, attendeeId, 'mute'), undefined, authHeaders(auth));
    },
  };
}
