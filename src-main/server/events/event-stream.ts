import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DESKTOP_ORIGIN } from '../app-api/app-api-http.js';
import { verifyBearerToken } from '../auth/bearer-token.js';
import { verifySigV4, type ApiCredentials } from '../auth/sigv4.js';
import { ChimeApiError, forbidden } from '../errors.js';
import { sendApiError } from '../http/control-plane-http.js';
import type { Logger } from '../logger.js';
import type { ChimeMeetingEvent } from './meeting-events.js';

export const EVENTS_PATH = '/events';

export interface EventStreamOptions {
  credentials: ApiCredentials;
  logger: Logger;
  /** Recent events kept for clients that reconnect with Last-Event-ID. */
  historySize?: number;
  /** A comment line this often keeps proxies and idle timers from closing the stream. */
  heartbeatMs?: number;
  /** A client this far behind (bytes buffered) is cut off rather than let grow without bound. */
  maxBufferedBytes?: number;
}

/**
 * GET /events: every meeting event as server-sent events, for the desktop app
 * and operators. Each message is `id: <event id>` and one `data:` line holding
 * the EventBridge-shaped event. Authenticated with SigV4 or the bearer token
 * derived from the API credentials. A client reconnecting with Last-Event-ID
 * gets the events it missed, if they are still in the recent history.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly history: { id: string; chunk: string }[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: EventStreamOptions) {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  publish(event: ChimeMeetingEvent): void {
    const chunk = `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
    this.history.push({ id: event.id, chunk });
    if (this.history.length > (this.options.historySize ?? 1000)) this.history.shift();
    this.write(chunk);
  }

  /** Handles a request for EVENTS_PATH. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = randomUUID();
    // The desktop renderer (app://chorus) reads the stream with fetch and an Authorization header: a preflighted request.
    const cors: Record<string, string> = req.headers.origin === DESKTOP_ORIGIN ? { 'Access-Control-Allow-Origin': DESKTOP_ORIGIN, Vary: 'Origin' } : {};
    if (req.method === 'OPTIONS' && cors['Access-Control-Allow-Origin']) {
      res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Allow-Headers': 'Authorization, Last-Event-ID', 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (req.method !== 'GET') {
      sendApiError(res, requestId, new ChimeApiError('BadRequestException', `${req.method ?? ''} is not supported on ${EVENTS_PATH}; use GET`, 405), { Allow: 'GET', ...cors });
      return;
    }
    try {
      this.authenticate(req);
    } catch (error) {
      if (!(error instanceof ChimeApiError)) throw error;
      this.options.logger.info('event_stream_refused', { reason: error.message });
      sendApiError(res, requestId, error, cors);
      return;
    }
    if (this.closed) {
      sendApiError(res, requestId, new ChimeApiError('ServiceUnavailableException', 'The server is shutting down'), cors);
      return;
    }
    res.writeHead(200, {
      ...cors,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'x-amzn-RequestId': requestId,
    });
    // An EventSource reconnects after this many ms if the stream breaks.
    res.write('retry: 2000\n\n');
    const lastId = req.headers['last-event-id'];
    if (typeof lastId === 'string') {
      const at = this.history.findIndex((h) => h.id === lastId);
      for (const h of at >= 0 ? this.history.slice(at + 1) : []) res.write(h.chunk);
    }
    req.socket.setNoDelay(true);
    // The stream has no idle limit of its own; heartbeats keep it moving.
    req.socket.setTimeout(0);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.options.logger.info('event_stream_opened', { clients: this.clients.size });
  }

  /** Ends every stream. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private authenticate(req: IncomingMessage): void {
    const authorization = req.headers.authorization ?? '';
    if (/^Bearer /i.test(authorization)) {
      const check = verifyBearerToken(req.headers, this.options.credentials);
      if (!check.ok) throw forbidden(`Bearer token refused (${check.reason})`);
      return;
    }
    // A GET has an empty body; verifySigV4 throws ForbiddenException with the precise reason.
    verifySigV4({ method: 'GET', url: req.url ?? EVENTS_PATH, headers: req.headers, body: Buffer.alloc(0) }, this.options.credentials);
  }

  private write(chunk: string): void {
    const limit = this.options.maxBufferedBytes ?? 1 << 20;
    for (const res of this.clients) {
      if (res.writableLength > limit) {
        this.options.logger.warn('event_stream_client_too_slow', { buffered: res.writableLength });
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(chunk);
    }
  }
}
