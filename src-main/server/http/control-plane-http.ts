import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifySigV4, type ApiCredentials } from '../auth/sigv4.js';
import { executeOperation } from '../control-plane/operations.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { matchRoute } from '../control-plane/routes.js';
import { badRequest, ChimeApiError, ChorusError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { BodyTooLargeError, readBody } from './body.js';

/** Larger than any valid request (100 attendees with capabilities is ~20 KB). */
export const MAX_API_BODY_BYTES = 256 * 1024;

export interface ControlPlaneHttpOptions {
  service: MeetingService;
  credentials: ApiCredentials;
  logger: Logger;
  now?: () => number;
}

function sendJson(res: ServerResponse, status: number, requestId: string, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'x-amzn-RequestId': requestId,
    ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
    ...headers,
  });
  res.end(payload);
}

/** The AWS JSON error shape: `x-amzn-ErrorType` names the exception, the body carries Code and Message. */
export function sendApiError(res: ServerResponse, requestId: string, error: ChimeApiError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, requestId, { Code: error.code, Message: error.message, RequestId: requestId }, {
    'x-amzn-ErrorType': error.exception,
    ...headers,
  });
}

function toApiError(error: unknown): ChimeApiError | undefined {
  if (error instanceof ChimeApiError) return error;
  if (error instanceof ChorusError && error.code === 'CLOSED') {
    return new ChimeApiError('ServiceUnavailableException', 'The server is shutting down');
  }
  return undefined;
}

/** Handles one Chime SDK Meetings API request end to end: size limit, SigV4, routing, JSON, errors. */
export async function handleControlPlaneRequest(req: IncomingMessage, res: ServerResponse, options: ControlPlaneHttpOptions): Promise<void> {
  const requestId = randomUUID();
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const url = new URL(target, 'http://chorus.invalid');
  const log = options.logger.child({ requestId });
  let operation: string | undefined;
  try {
    let body: Buffer;
    try {
      body = await readBody(req, MAX_API_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // Close the connection: the rest of an oversized upload is not worth reading.
        sendApiError(res, requestId, new ChimeApiError('BadRequestException', error.message, 413), { Connection: 'close' });
        return;
      }
      throw error;
    }

    verifySigV4({ method, url: target, headers: req.headers, body }, options.credentials, options.now?.());

    const match = matchRoute(method, url.pathname, url.searchParams.get('operation'));
    switch (match.kind) {
      case 'not-found':
        throw notFound(`No Chime SDK Meetings operation at ${method} ${url.pathname}`);
      case 'unknown-operation':
        throw notFound(`Unknown operation '${match.operation}' for ${method} ${url.pathname}`);
      case 'method-not-allowed':
        sendApiError(res, requestId, new ChimeApiError('BadRequestException', `${method} is not allowed on ${url.pathname}; use ${match.allowed.join(' or ')}`, 405), {
          Allow: match.allowed.join(', '),
        });
        return;
      case 'operation':
        break;
      default: {
        const unreachable: never = match;
        throw new Error(`unhandled route ${JSON.stringify(unreachable)}`);
      }
    }
    operation = match.operation;

    let parsed: unknown = {};
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw badRequest('Request body is not valid JSON');
      }
    }
    const result = await executeOperation(options.service, {
      operation: match.operation,
      meetingId: match.meetingId,
      attendeeId: match.attendeeId,
      query: url.searchParams,
      body: parsed,
    });
    log.debug('api_request', { operation, status: result.status });
    sendJson(res, result.status, requestId, result.body);
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError) {
      log.info('api_error', { operation, method, path: url.pathname, exception: apiError.exception, message: apiError.message });
      sendApiError(res, requestId, apiError);
      return;
    }
    log.error('api_internal_error', { operation, method, path: url.pathname, error });
    sendApiError(res, requestId, new ChimeApiError('ServiceFailureException', 'Internal server error'));
  }
}
