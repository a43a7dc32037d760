import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';

/**
 * Limits on connections, so that slow, idle or numerous clients cannot hold the
 * server's descriptors: every way in has a deadline, every client address and
 * join token a share, and the whole server a ceiling below the descriptor limit,
 * past which it answers 503 with Retry-After instead of failing to accept.
 */
export interface ConnectionLimits {
  /** A connection must send a request's complete headers this soon (also the first request after connecting). */
  headersTimeoutMs: number;
  /** A request, body included, must arrive this soon. */
  requestTimeoutMs: number;
  /** An HTTP connection with no traffic either way for this long is closed (not WebSockets: they have their own). */
  idleTimeoutMs: number;
  /** Between two requests on a kept-alive connection. */
  keepAliveTimeoutMs: number;
  /** A TLS handshake must finish this soon. */
  tlsHandshakeTimeoutMs: number;
  /** After the WebSocket upgrade, the client must send JOIN this soon. */
  joinTimeoutMs: number;
  /** Open signaling WebSockets per join token (a camera session and a content share count apart). */
  maxSocketsPerToken: number;
  /** Open TCP connections per client address. */
  maxConnectionsPerAddress: number;
  /** Open TCP connections in all; past it, requests get 503 with Retry-After and new connections past a margin are dropped. */
  maxConnections: number;
  /** Origins allowed to open signaling WebSockets from a browser, besides the server's own and the desktop app's. */
  allowedOrigins: string[];
}

/** Descriptors kept for what is not a client connection: files, the state database, media sockets, the runtime. */
const DESCRIPTOR_RESERVE = 96;
/** Connections past maxConnections that are still accepted to be told 503, before further ones are dropped unanswered. */
const OVERFLOW_MARGIN = 32;
/** What clients over a limit are told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** The process's open-file limit where the platform tells it (Linux), else undefined. */
export function descriptorLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(read());
    return match && match[1] !== 'unlimited' ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The limits in force: `overrides` over the defaults, with the per-address share following maxConnections unless set. */
export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> = {}, fdLimit: number | undefined = descriptorLimit()): ConnectionLimits {
  const maxConnections = overrides.maxConnections ?? Math.max(16, Math.min(4096, (fdLimit ?? Infinity) - DESCRIPTOR_RESERVE - OVERFLOW_MARGIN));
  return {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    keepAliveTimeoutMs: 5_000,
    tlsHandshakeTimeoutMs: 10_000,
    // As long as a silent session may live (SILENCE_TIMEOUT_MS): the SDK's `start({ signalingOnly: true })`
    // opens the socket early, while the user is still choosing devices, and sends JOIN only later.
    joinTimeoutMs: 45_000,
    maxSocketsPerToken: 4,
    // One address must not be able to take the whole server.
    maxConnectionsPerAddress: Math.min(512, Math.max(1, Math.floor(maxConnections / 2))),
    allowedOrigins: [],
    ...overrides,
    maxConnections,
  };
}

/** Options for http(s).createServer that carry the timeouts. */
export function serverTimeoutOptions(limits: ConnectionLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for connections past their header or request deadline (default 30 s).
    connectionsCheckingInterval: Math.max(250, Math.min(1_000, limits.headersTimeoutMs / 4)),
    handshakeTimeout: limits.tlsHandshakeTimeoutMs,
  };
}

/** Counts per key, refusing past `max`. */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Counts one more for `key`; returns false (and counts nothing) when `key` is at the limit. */
  tryAcquire(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

const normalizeAddress = (address: string | undefined): string => (address ?? 'unknown').replace(/^::ffff:/, '');

/** Paths answered even when the server is full: the desktop supervisor restarts a server whose health check fails. */
const ALWAYS_ANSWERED = new Set(['/health']);

/**
 * Applies the limits to an HTTP(S) server: socket idle timeout, the hard ceiling,
 * per-address shares (counted at accept), and admission of each request and
 * upgrade against the global ceiling.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perAddress: KeyedCounter;

  constructor(
    readonly limits: ConnectionLimits,
    private readonly tls: boolean,
    private readonly logger: Logger,
  ) {
    this.perAddress = new KeyedCounter(limits.maxConnectionsPerAddress);
  }

  get openConnections(): number {
    return this.open;
  }

  attach(server: Server): void {
    server.timeout = this.limits.idleTimeoutMs;
    // Past this, Node drops new connections at accept without reading them.
    server.maxConnections = this.limits.maxConnections + OVERFLOW_MARGIN;
    server.on('connection', (socket: Socket) => this.accepted(socket));
  }

  /** False when the request was answered 503 (the server is full); the caller stops there. */
  admitRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.open <= this.limits.maxConnections || ALWAYS_ANSWERED.has((req.url ?? '/').split('?')[0] ?? '/')) return true;
    this.logger.warn('connection_refused_server_full', { open: this.open, max: this.limits.maxConnections });
    const body = JSON.stringify({ Code: 'ServiceUnavailable', Message: 'The server has too many open connections; try again shortly' });
    res.writeHead(503, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-ErrorType': 'ServiceUnavailableException',
      Connection: 'close',
    });
    res.end(body);
    return false;
  }

  /** False when the upgrade was answered 503 (the server is full) and the socket closed. */
  admitUpgrade(socket: Duplex): boolean {
    if (this.open <= this.limits.maxConnections) return true;
    this.logger.warn('connection_refused_server_full', { open: this.open, max: this.limits.maxConnections, upgrade: true });
    endSoon(socket, `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return false;
  }

  private accepted(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    this.open++;
    socket.once('close', () => this.open--);
    if (!this.perAddress.tryAcquire(address)) {
      this.logger.warn('connection_refused_address_limit', { address, max: this.limits.maxConnectionsPerAddress });
      // Plain HTTP can still be told why; under TLS nothing can be said before a handshake worth refusing.
      if (this.tls) socket.destroy();
      else endSoon(socket, `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    socket.once('close', () => this.perAddress.release(address));
  }
}

/**
 * The answer to a connection the HTTP parser gave up on: 408 for a request past its
 * deadline, 400 for a malformed one. A TLS connection whose handshake never finished
 * cannot be answered at all and is closed (writing to it would wait for the handshake).
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const handshakeUnfinished = socket instanceof TLSSocket && !socket.getProtocol();
  if (handshakeUnfinished || !socket.writable || /^ERR_(TLS|SSL)_/.test(error.code ?? '')) {
    socket.destroy();
    return;
  }
  endSoon(socket, error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
    : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}

/** Sends a last answer and closes; a peer that never closes its side loses the descriptor a second later anyway. */
function endSoon(socket: Duplex, answer: string): void {
  socket.end(answer);
  setTimeout(() => socket.destroy(), 1_000).unref();
}
