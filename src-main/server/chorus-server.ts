import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AppMeetings } from './app-api/app-meetings.js';
import { handleAppApiRequest, isAppApiPath } from './app-api/app-api-http.js';
import { muteLiveAttendee } from './app-api/live-control.js';
import { serverInfoFor } from './app-api/server-info.js';
import { resolveCredentials, type ResolvedCredentials } from './auth/credentials.js';
import { mediaPlacementFor } from './control-plane/media-placement.js';
import { DEFAULT_LIFECYCLE_TIMEOUTS, type LifecycleTimeouts } from './control-plane/meeting-lifecycle.js';
import { MeetingService } from './control-plane/meeting-service.js';
import { openDurableMeetingStore } from './control-plane/durable-meeting-store.js';
import type { MeetingStore } from './control-plane/meeting-store.js';
import { isApiPath } from './control-plane/routes.js';
import { ChimeApiError, ChorusError } from './errors.js';
import { EventNotifications } from './events/event-notifications.js';
import { restoredPresence } from './events/event-sources.js';
import type { WebhookRetryPolicy } from './events/webhook-delivery.js';
import { resolveWebhookSecret } from './events/webhook-secret.js';
import { answerClientError, ConnectionGuard, resolveConnectionLimits, serverTimeoutOptions, type ConnectionLimits } from './http/connection-limits.js';
import { handleControlPlaneRequest, sendApiError } from './http/control-plane-http.js';
import { serveStaticFile } from './http/static-files.js';
import { createLogger, type Logger } from './logger.js';
import type { RoomActivity } from './signaling/room-activity.js';
import { SignalingGateway } from './signaling/signaling-gateway.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { DEFAULT_MAX_WEB_HOSTED_MEETINGS, mediaSettings, signalingLimits, type DeepPartial } from './defaults.js';
import type { SignalingLimits } from './signaling/frame-limits.js';
import type { PasscodeLimits } from './app-api/attempt-limiter.js';
import type { AppLimits } from './app-api/app-meetings.js';
import { DEFAULT_DATA_MESSAGE_LIMITS, type DataMessageLimits } from './signaling/data-messages.js';
import { warmUpOpus } from './media/audio/opus-codec.js';
import { EgressBudget } from './media/bwe/egress-budget.js';
import { MeetingMedia } from './media/meeting-media.js';
import type { MediaSettings } from './media/media-settings.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { derivePublicBaseUrl, describeListenError, isLoopbackHost, isWildcardHost } from './runtime/network.js';
import { loadTlsMaterial, type TlsMaterial } from './tls/certificate.js';

export interface ChorusServerConfig {
  host: string;
  port: number;
  dataDir: string;
  publicUrl?: string;
  /** Force TLS on a loopback bind. Non-loopback binds always use TLS. */
  tls?: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  maxActiveMeetings?: number;
  lifecycle?: Partial<LifecycleTimeouts>;
  /** Restricts ICE to one local address (default: every interface). */
  iceHost?: string;
  /** The one UDP port all media shares; default: the same number as the TCP port; 0: a port per connection. */
  udpPort?: number;
  /** How long a signaling session may stay silent before it counts as dropped (tests shorten it). */
  signalingSilenceTimeoutMs?: number;
  /** The built renderer served at `/` (default: dist/renderer of this checkout). */
  rendererDir?: string;
  /** Anyone who can reach the server may create app meetings, not only holders of the bearer token. */
  allowWebHosting?: boolean;
  /** GET /app/api/meetings lists meetings only to the bearer token; passcodes may then be as short as 4 characters (else 8). */
  unlisted?: boolean;
  /** Passcode guessing limits, merged over DEFAULT_PASSCODE_LIMITS (src-main/server/defaults.ts). */
  passcodeLimits?: Partial<PasscodeLimits>;
  /** Quotas of anonymous app joins and hosting, merged over DEFAULT_APP_LIMITS. */
  appLimits?: Partial<AppLimits>;
  /** Meetings started from the web app without the bearer token, on top of maxActiveMeetings (default DEFAULT_MAX_WEB_HOSTED_MEETINGS). */
  maxWebHostedMeetings?: number;
  /** Server name shown in the app (default: the machine's host name). */
  serverName?: string;
  /** Every meeting event is POSTed to each of these, signed, at least once (see src-main/server/events). */
  webhookUrls?: string[];
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** A cap on all the video this host sends, in Mbit/s, shared fairly by every subscriber of every meeting; 0 or unset: none. */
  maxEgressMbps?: number;
  /** Media tuning merged over DEFAULT_MEDIA_SETTINGS (src-main/server/defaults.ts). */
  media?: DeepPartial<MediaSettings>;
  /** Timeouts and connection caps (see src-main/server/http/connection-limits.ts); unset ones take their defaults. */
  limits?: Partial<ConnectionLimits>;
  /** Signaling frame caps, presence coalescing and send-buffer caps, merged over DEFAULT_SIGNALING_LIMITS. */
  signalingLimits?: DeepPartial<SignalingLimits>;
  /** Data message throttling and lifetime buffer, merged over DEFAULT_DATA_MESSAGE_LIMITS. */
  dataMessageLimits?: Partial<DataMessageLimits>;
}

export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));

export interface ChorusServerDeps {
  logger?: Logger;
  clock?: Clock;
  /** Default: the durable store in `<dataDir>/state-db`, which a restart on the same data directory picks up. */
  store?: MeetingStore;
  env?: NodeJS.ProcessEnv;
}

export interface ChorusServer {
  /** The URL the server is bound to (loopback or interface address). */
  readonly url: string;
  /** The URL advertised to clients in MediaPlacement. */
  readonly publicUrl: string;
  readonly port: number;
  readonly tls: TlsMaterial | undefined;
  readonly credentials: ResolvedCredentials;
  readonly service: MeetingService;
  readonly signaling: SignalingGateway;
  /** Meetings joinable by code and passcode through the app API (/app/api/). */
  readonly appMeetings: AppMeetings;
  /** Meeting events: webhooks and the GET /events stream. */
  readonly events: EventNotifications;
  /** Ends every meeting, closes every connection. Idempotent; resolves when all handles are released. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_ACTIVE_MEETINGS = 100;

/**
 * Between listen() and the moment every part is built (a restart restores its
 * meetings there), requests and upgrades are answered 503 with Retry-After
 * rather than left hanging. Returns the function that stops doing so.
 */
function answerWhileStarting(server: Server): () => void {
  const request = (_req: IncomingMessage, res: ServerResponse): void => {
    const body = JSON.stringify({ Code: 'ServiceUnavailableException', Message: 'The server is starting; try again in a second' });
    res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '1', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  };
  const upgrade = (_req: IncomingMessage, socket: Duplex): void => {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n');
  };
  server.on('request', request);
  server.on('upgrade', upgrade);
  return () => {
    server.off('request', request);
    server.off('upgrade', upgrade);
  };
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new ChorusError('STARTUP_FAILED', describeListenError(host, port, error), { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startChorusServer(config: ChorusServerConfig, deps: ChorusServerDeps = {}): Promise<ChorusServer> {
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  const media = mediaSettings(config.media);
  const credentials = await resolveCredentials(config.dataDir, deps.env ?? process.env);
  const webhookSecret = config.webhookUrls?.length ? await resolveWebhookSecret(config.dataDir, deps.env ?? process.env) : undefined;
  const opusVersion = await warmUpOpus();
  const useTls = Boolean(config.tls || config.tlsCertFile || !isLoopbackHost(config.host));
  const tls = useTls
    ? await loadTlsMaterial({ dataDir: config.dataDir, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, hostnames: [config.host] })
    : undefined;

  const store = deps.store ?? (await openDurableMeetingStore(config.dataDir, logger));
  // Releases the store at the end, if it is ours; it is not emptied: the meetings in it outlive a failed start.
  const releaseStore = (): Promise<void> => (deps.store ? Promise.resolve() : store.close());

  const limits: ConnectionLimits = resolveConnectionLimits(config.limits);
  const guard = new ConnectionGuard(limits, Boolean(tls), logger);
  // Bound first: the port (asked for or given by the system) is in every URL the parts below are built with.
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key, ...serverTimeoutOptions(limits) }) : createHttpServer(serverTimeoutOptions(limits));
  guard.attach(server);
  server.on('clientError', (error, socket) => {
    logger.debug('client_error', { error });
    answerClientError(error, socket);
  });
  const endStartupAnswers = answerWhileStarting(server);
  let address: AddressInfo;
  try {
    address = await listen(server, config.host, config.port);
  } catch (error) {
    await releaseStore();
    throw error;
  }
  const scheme = tls ? 'https' : 'http';
  const boundHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // A wildcard bind is reachable on the LAN address, which is the useful one to print.
  const url = isWildcardHost(config.host)
    ? derivePublicBaseUrl({ host: config.host, port: address.port, tls: Boolean(tls) })
    : `${scheme}://${boundHost}:${address.port}`;
  const publicUrl = derivePublicBaseUrl({ host: config.host, port: address.port, tls: Boolean(tls), publicUrl: config.publicUrl });
  const udpPort = config.udpPort ?? address.port;
  const ice = { host: config.iceHost, udpPort };

  const service = new MeetingService({
    store,
    clock,
    logger,
    placementFor: (meetingId) => mediaPlacementFor(publicUrl, meetingId),
    maxActiveMeetings: config.maxActiveMeetings ?? DEFAULT_MAX_ACTIVE_MEETINGS,
    maxWebHostedMeetings: config.allowWebHosting ? (config.maxWebHostedMeetings ?? DEFAULT_MAX_WEB_HOSTED_MEETINGS) : 0,
    lifecycle: { ...DEFAULT_LIFECYCLE_TIMEOUTS, ...config.lifecycle },
  });
  const egress = new EgressBudget((config.maxEgressMbps ?? 0) * 1_000_000);
  const activity: RoomActivity = new TypedEmitter((error) => logger.error('activity_listener_failed', { error }));
  const gateway = new SignalingGateway({
    service,
    logger,
    createMedia: (meetingId) => new MeetingMedia({ id: meetingId, ice, logger, clock, settings: media, egress }),
    publishCaps: { cameraMaxKbps: media.cameraMaxKbps, contentMaxKbps: media.contentMaxKbps },
    silenceTimeoutMs: config.signalingSilenceTimeoutMs,
    activity,
    limits: { joinTimeoutMs: limits.joinTimeoutMs, maxSocketsPerToken: limits.maxSocketsPerToken, origins: { tls: Boolean(tls), publicOrigin: () => publicUrl, allowedOrigins: limits.allowedOrigins } },
    sessionLimits: signalingLimits(config.signalingLimits),
    dataMessageLimits: { ...DEFAULT_DATA_MESSAGE_LIMITS, ...config.dataMessageLimits },
    clock,
  });
  const appMeetings = new AppMeetings({
    service,
    logger,
    participantCount: (meetingId) => gateway.room(meetingId)?.size ?? 0,
    muteLive: (meetingId, attendeeId) => void muteLiveAttendee(gateway, meetingId, attendeeId, clock.now()),
    listed: !config.unlisted,
    passcodeLimits: config.passcodeLimits,
    limits: config.appLimits,
    isConnected: (meetingId, attendeeId) => gateway.room(meetingId)?.participant(attendeeId) !== undefined,
  });
  // An app attendee that said LEAVE frees its place in the meeting at once.
  activity.on('left', ({ meeting, attendee, content, dropped }) => {
    if (!content) appMeetings.attendeeLeft(meeting.MeetingId, attendee.AttendeeId, dropped);
  });
  let events: EventNotifications;
  try {
    const presence = await restoredPresence(store, clock);
    events = EventNotifications.start({
      presence,
      dataDir: config.dataDir,
      webhookSecret,
      webhookUrls: config.webhookUrls,
      webhookRetry: config.webhookRetry,
      service,
      activity,
      credentials: credentials.credentials,
      logger,
      now: () => clock.now(),
    });
  } catch (error) {
    // An outbox directory that cannot be opened: release what is already running.
    appMeetings.close();
    gateway.close();
    await releaseStore();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new ChorusError('STARTUP_FAILED', `Cannot open the webhook outbox: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Meetings an earlier run left (after a crash) carry on; reconnecting clients find them.
  await service.restore();

  const rendererDir = config.rendererDir ?? DEFAULT_RENDERER_DIR;
  const serverInfo = (): ReturnType<typeof serverInfoFor> =>
    serverInfoFor({ name: config.serverName, urls: [publicUrl, url], fingerprint: tls?.fingerprint256, webHosting: config.allowWebHosting ?? false, listed: !config.unlisted });
  const failed = (res: ServerResponse) => (error: unknown): void => {
    logger.error('request_failed', { error });
    if (!res.headersSent) res.destroy();
  };
  endStartupAnswers();
  server.on('request', (req: IncomingMessage, res: ServerResponse): void => {
    // Every response: JSON must never be sniffed into something a browser would run.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (!guard.admitRequest(req, res)) return;
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (isAppApiPath(pathname)) {
      const context = { meetings: appMeetings, credentials: credentials.credentials, logger, allowWebHosting: config.allowWebHosting ?? false, serverInfo };
      void handleAppApiRequest(req, res, context).catch(failed(res));
      return;
    }
    if (isApiPath(pathname)) {
      void handleControlPlaneRequest(req, res, { service, credentials: credentials.credentials, logger }).catch(failed(res));
      return;
    }
    if (events.handleRequest(req, res, pathname)) return;
    if (pathname === '/health' && req.method === 'GET') {
      const body = JSON.stringify({ status: 'ok' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      void serveStaticFile(req, res, { root: rendererDir }).catch(failed(res));
      return;
    }
    sendApiError(res, 'none', new ChimeApiError('NotFoundException', `Nothing is served at ${pathname}`));
  });
  server.on('upgrade', (req, socket, head) => {
    if (!guard.admitUpgrade(socket)) return;
    if (!gateway.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  logger.info('server_started', { url, publicUrl, tls: Boolean(tls), udpPort, iceHost: config.iceHost ?? 'all', opus: opusVersion, limits });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      appMeetings.close();
      await service.close();
      gateway.close();
      // Last: the meetings' end above still goes into the outboxes.
      await events.close();
      await releaseStore();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.info('server_stopped', {});
    })();
    return closing;
  };

  return { url, publicUrl, port: address.port, tls, credentials, service, signaling: gateway, appMeetings, events, close };
}
