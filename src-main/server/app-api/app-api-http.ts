import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCredentials } from '../auth/sigv4.js';
import { verifyBearerToken } from '../auth/bearer-token.js';
import { badRequest, ChimeApiError, ChorusError, forbidden, notFound } from '../errors.js';
import { BodyTooLargeError, readBody } from '../http/body.js';
import { sendApiError } from '../http/control-plane-http.js';
import type { Logger } from '../logger.js';
import { APP_API_PREFIX, ATTENDEE_ID_HEADER, HOST_KEY_HEADER, isLobbyTicket, JOIN_TOKEN_HEADER, type ServerInfo } from '../../shared/app-api.js';
import { AppRefusal } from './app-errors.js';
import { ThrottledError, type AppMeetings, type Credentials } from './app-meetings.js';
import { matchAppRoute, type AppRoute, type AppRouteMatch } from './app-routes.js';

export { APP_API_PREFIX, matchAppRoute };
export type { AppRoute, AppRouteMatch, ServerInfo };
/** The desktop renderer's origin; the web renderer is same-origin and needs no CORS. */
export const DESKTOP_ORIGIN = 'app://chorus';
const MAX_APP_BODY_BYTES = 16 * 1024;

export interface AppApiHttpOptions {
  meetings: AppMeetings;
  credentials: ApiCredentials;
  logger: Logger;
  serverInfo: () => ServerInfo;
  /** `--allow-web-hosting`: creating a meeting needs no bearer token. */
  allowWebHosting?: boolean;
}

export function isAppApiPath(pathname: string): boolean {
  return pathname.startsWith(APP_API_PREFIX) || pathname === '/app/api';
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  if (req.headers.origin !== DESKTOP_ORIGIN) return {};
  return {
    'Access-Control-Allow-Origin': DESKTOP_ORIGIN,
    'Access-Control-Allow-Methods': 'GET, POST',
    // Header names are case-insensitive; these are the spellings the app sends.
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Chorus-Host-Key, X-Chorus-Attendee-Id, X-Chorus-Join-Token',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}

function sendJson(res: ServerResponse, status: number, requestId: string, body: unknown, headers: Record<string, string>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'x-amzn-RequestId': requestId,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_APP_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new ChimeApiError('BadRequestException', error.message, 413);
    throw error;
  }
  if (body.length === 0) return {};
  // Requiring JSON makes every cross-origin POST a preflighted one, which only app://chorus passes.
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw badRequest('Content-Type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('Request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host key when one is sent, else the attendee's own credentials. */
function credentialsOf(req: IncomingMessage): Credentials {
  const hostKey = headerValue(req, HOST_KEY_HEADER);
  if (hostKey !== undefined) return { hostKey };
  const attendeeId = headerValue(req, ATTENDEE_ID_HEADER);
  const joinToken = headerValue(req, JOIN_TOKEN_HEADER);
  return { ...(attendeeId ? { attendeeId } : {}), ...(joinToken ? { joinToken } : {}) };
}

/** A Chime-style error, with the app's `Reason` when there is one. */
function sendAppError(res: ServerResponse, requestId: string, error: ChimeApiError, headers: Record<string, string>): void {
  if (!(error instanceof AppRefusal)) {
    sendApiError(res, requestId, error, headers);
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, requestId, { Code: error.code, Message: error.message, Reason: error.reason, RequestId: requestId }, { 'x-amzn-ErrorType': error.exception, ...headers });
}

/** Handles one app API request: CORS, routing, JSON, Chime-style errors. Never throws. */
export async function handleAppApiRequest(req: IncomingMessage, res: ServerResponse, options: AppApiHttpOptions): Promise<void> {
  const requestId = randomUUID();
  const method = req.method ?? 'GET';
  const pathname = new URL(req.url ?? '/', 'http://chorus.invalid').pathname;
  const cors = corsHeaders(req);
  try {
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Content-Length': 0 });
      res.end();
      return;
    }
    const match = matchAppRoute(method, pathname);
    switch (match.kind) {
      case 'not-found':
        throw notFound(`No app API at ${method} ${pathname.slice(0, 200)}`);
      case 'method-not-allowed':
        sendApiError(res, requestId, new ChimeApiError('BadRequestException', `${method} is not allowed here; use ${match.allowed.join(' or ')}`, 405), {
          ...cors,
          Allow: match.allowed.join(', '),
        });
        return;
      case 'route':
        break;
      default: {
        const unreachable: never = match;
        throw new Error(`unhandled match ${JSON.stringify(unreachable)}`);
      }
    }
    const { route } = match;
    const { meetings } = options;
    const credentials = credentialsOf(req);
    switch (route.kind) {
      case 'server':
        sendJson(res, 200, requestId, options.serverInfo(), cors);
        return;
      case 'list': {
        // Unlisted: codes are shared by whoever hosts; only the bearer token (the desktop host) sees them all.
        const everyone = meetings.listed || verifyBearerToken(req.headers, options.credentials).ok;
        sendJson(res, 200, requestId, { meetings: everyone ? meetings.list() : [] }, cors);
        return;
      }
      case 'create': {
        const auth = verifyBearerToken(req.headers, options.credentials);
        // A wrong token is refused even when hosting is open: it is a mistake worth reporting.
        if (!auth.ok && !(options.allowWebHosting && auth.reason === 'missing')) throw forbidden(auth.reason === 'missing' ? 'Creating a meeting needs the host bearer token' : 'The bearer token is not valid');
        // Without the token (web hosting), it counts against the address's and the server's web-hosting quotas.
        const anonymous = auth.ok ? undefined : { clientKey: req.socket.remoteAddress ?? 'unknown' };
        const created = await meetings.create(await readJsonBody(req), false, anonymous);
        sendJson(res, 201, requestId, created, cors);
        return;
      }
      case 'describe':
        sendJson(res, 200, requestId, meetings.describe(route.code), cors);
        return;
      case 'join': {
        const body = await readJsonBody(req);
        const result = await meetings.join(route.code, body, req.socket.remoteAddress ?? 'unknown');
        // 202: accepted, not yet in; the guest waits in the lobby with its ticket.
        sendJson(res, isLobbyTicket(result) ? 202 : 200, requestId, result, cors);
        return;
      }
      case 'lobby-wait':
        sendJson(res, 200, requestId, await meetings.lobbyWait(route.code, await readJsonBody(req)), cors);
        return;
      case 'lobby-leave':
        meetings.lobbyLeave(route.code, await readJsonBody(req));
        sendJson(res, 200, requestId, { left: true }, cors);
        return;
      case 'live':
        sendJson(res, 200, requestId, await meetings.live(route.code, credentials, await readJsonBody(req)), cors);
        return;
      case 'action':
        await meetings.act(route.code, credentials, await readJsonBody(req));
        sendJson(res, 200, requestId, { done: true }, cors);
        return;
      case 'end':
        await meetings.end(route.code, credentials);
        sendJson(res, 200, requestId, { ended: true }, cors);
        return;
      case 'remove':
        await meetings.removeAttendee(route.code, credentials, route.attendeeId);
        sendJson(res, 200, requestId, { removed: true }, cors);
        return;
      case 'mute':
        await meetings.muteAttendee(route.code, credentials, route.attendeeId);
        sendJson(res, 200, requestId, { muted: true }, cors);
        return;
      default: {
        const unreachable: never = route;
        throw new Error(`unhandled route ${JSON.stringify(unreachable)}`);
      }
    }
  } catch (error) {
    if (error instanceof ChimeApiError) {
      options.logger.info('app_api_error', { method, path: pathname, exception: error.exception, message: error.message });
      const retryAfter: Record<string, string> = error instanceof ThrottledError ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
      sendAppError(res, requestId, error, { ...cors, ...retryAfter, ...(error.status === 413 ? { Connection: 'close' } : {}) });
      return;
    }
    if (error instanceof ChorusError && error.code === 'CLOSED') {
      sendApiError(res, requestId, new ChimeApiError('ServiceUnavailableException', 'The server is shutting down'), cors);
      return;
    }
    options.logger.error('app_api_internal_error', { method, path: pathname, error });
    sendApiError(res, requestId, new ChimeApiError('ServiceFailureException', 'Internal server error'), cors);
  }
}
