import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_SIGNAL_FRAME_BYTES } from '../../shared/signaling/frames.js';
import type { Meeting } from '../../shared/chime-types.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { KeyedCounter } from '../http/connection-limits.js';
import { originAllowed, type OriginPolicy } from '../http/websocket-admission.js';
import { DEFAULT_SIGNALING_LIMITS } from '../defaults.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import type { SignalingLimits } from './frame-limits.js';
import type { MeetingMedia } from '../media/meeting-media.js';
import type { DataMessageLimits } from './data-messages.js';
import { MeetingRoom } from './meeting-room.js';
import type { RoomActivity } from './room-activity.js';
import { CLOSE_CODES } from './signaling-errors.js';
import { SignalingSession } from './signaling-session.js';

export const SESSION_SUBPROTOCOL = '_aws_wt_session';
const CONTROL_PATH = /^\/control\/([0-9a-fA-F-]{36})$/;
const ENDED_MEMORY = 1000;

/** The join token from the second WebSocket subprotocol (JS client) or the `_aws_wt_session` cookie (C++ client). */
export function extractJoinToken(headers: IncomingMessage['headers']): string | undefined {
  const protocols = (headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const at = protocols.indexOf(SESSION_SUBPROTOCOL);
  if (at >= 0 && protocols[at + 1]) return protocols[at + 1];
  for (const pair of (headers.cookie ?? '').split(';')) {
    const [name, ...rest] = pair.trim().split('=');
    if (name === SESSION_SUBPROTOCOL && rest.length > 0) return rest.join('=');
  }
  return undefined;
}

export interface SignalingGatewayOptions {
  service: MeetingService;
  logger: Logger;
  /** Makes the media layer of a meeting's room (peers, router, mixer). */
  createMedia: (meetingId: string) => MeetingMedia;
  /** Upper bounds on what publishers may send, in kbps. */
  publishCaps: { cameraMaxKbps: number; contentMaxKbps: number };
  /** How long a session may send nothing before it is dropped (default SILENCE_TIMEOUT_MS). */
  silenceTimeoutMs?: number;
  /** Receives joins, leaves and video changes of every room, for event notifications. */
  activity?: RoomActivity;
  dataMessageLimits?: DataMessageLimits;
  /** Limits on signaling sockets (see ConnectionLimits); none when absent. */
  limits?: SignalingSocketLimits;
  /** Frame rate caps, presence coalescing and send-buffer caps of each session (default DEFAULT_SIGNALING_LIMITS). */
  sessionLimits?: SignalingLimits;
  clock?: Clock;
}

export interface SignalingSocketLimits {
  /** JOIN must arrive this soon after the upgrade. */
  joinTimeoutMs: number;
  /** Open sockets per participant (join token; a content share counts apart). */
  maxSocketsPerToken: number;
  origins: OriginPolicy;
}

/** Close codes of the limits. 45xx makes the SDK reconnect later, which is right for a transient excess. */
export const LIMIT_CLOSE_CODES = {
  originRefused: 4403,
  joinTimeout: 4408,
  tooManySockets: 4503,
} as const;

/**
 * Accepts signaling WebSockets at `/control/<MeetingId>`, authenticates the join
 * token before any meeting state is touched, and keeps one MeetingRoom per meeting.
 * A refused token still gets a WebSocket, closed at once with 4403: rejecting the
 * HTTP upgrade would make the Chime client retry for two minutes.
 */
export class SignalingGateway {
  private readonly wss: WebSocketServer;
  private readonly rooms = new Map<string, MeetingRoom>();
  private readonly ended = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly perToken: KeyedCounter | undefined;
  private closed = false;

  constructor(private readonly options: SignalingGatewayOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_SIGNAL_FRAME_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SESSION_SUBPROTOCOL) ? SESSION_SUBPROTOCOL : false),
    });
    this.perToken = options.limits ? new KeyedCounter(options.limits.maxSocketsPerToken) : undefined;
    const { events } = options.service;
    this.unsubscribe.push(
      events.on('meetingEnded', ({ meeting }) => {
        this.rememberEnded(meeting.MeetingId);
        this.rooms.get(meeting.MeetingId)?.close();
        this.rooms.delete(meeting.MeetingId);
      }),
      events.on('attendeeDeleted', ({ meeting, attendee, reason }) => {
        if (reason === 'deleted') this.rooms.get(meeting.MeetingId)?.removeAttendee(attendee.AttendeeId);
      }),
      events.on('capabilitiesUpdated', ({ meeting, attendees }) => {
        const room = this.rooms.get(meeting.MeetingId);
        for (const attendee of attendees) room?.updateCapabilities(attendee);
      }),
    );
  }

  /** Bytes queued on every signaling socket and not yet written to the network. */
  get bufferedBytes(): number {
    let total = 0;
    for (const ws of this.sockets) total += ws.bufferedAmount;
    return total;
  }

  room(meetingId: string): MeetingRoom | undefined {
    return this.rooms.get(meetingId);
  }

  /** Handles an HTTP upgrade; returns false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = CONTROL_PATH.exec(path);
    if (!match || this.closed) return false;
    const meetingId = match[1]!.toLowerCase();
    socket.on('error', (error) => this.options.logger.debug('signaling_socket_error', { error }));
    const limits = this.options.limits;
    if (limits && !originAllowed(req, limits.origins)) {
      // Refused like a bad token: a WebSocket closed at once, which the SDK reports rather than retries.
      this.options.logger.info('signaling_refused', { meetingId, reason: 'origin', origin: String(req.headers.origin).slice(0, 100) });
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.close(LIMIT_CLOSE_CODES.originRefused, 'Origin not allowed'));
      return true;
    }
    void this.authenticate(req, meetingId).then(
      (outcome) => this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, meetingId, outcome)),
      (error: unknown) => {
        this.options.logger.error('signaling_upgrade_failed', { error });
        socket.destroy();
      },
    );
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  private async authenticate(req: IncomingMessage, meetingId: string) {
    const token = extractJoinToken(req.headers);
    const identity = token ? await this.options.service.resolveJoinToken(token) : undefined;
    if (identity && identity.meeting.MeetingId === meetingId) return { identity };
    // Ended meetings are remembered by the store too, so a client reconnecting after a restart is told the meeting ended.
    const ended = this.ended.has(meetingId) || (await this.options.service.wasEnded(meetingId));
    return { refused: ended ? ('ended' as const) : ('token' as const) };
  }

  private accept(ws: WebSocket, meetingId: string, outcome: Awaited<ReturnType<SignalingGateway['authenticate']>>): void {
    if (!('identity' in outcome) || !outcome.identity) {
      const ended = outcome.refused === 'ended';
      this.options.logger.info('signaling_refused', { meetingId, reason: outcome.refused });
      ws.close(ended ? CLOSE_CODES.meetingEnded : CLOSE_CODES.invalidToken, ended ? 'The meeting has ended' : 'Invalid join token');
      return;
    }
    const identity = outcome.identity;
    // The meeting may have ended while the token was being checked.
    if (this.ended.has(meetingId) || this.closed) {
      ws.close(CLOSE_CODES.meetingEnded, 'The meeting has ended');
      return;
    }
    const key = identity.participantId;
    if (this.perToken && !this.perToken.tryAcquire(key)) {
      this.options.logger.warn('signaling_refused', { meetingId, reason: 'sockets-per-token', participantId: key });
      ws.close(LIMIT_CLOSE_CODES.tooManySockets, 'Too many connections for this join token');
      return;
    }
    this.sockets.add(ws);
    this.options.activity?.emit('authorized', { meeting: identity.meeting, attendee: identity.attendee, participantId: identity.participantId, content: identity.content });
    const room = this.roomFor(identity.meeting);
    const session = new SignalingSession(identity, {
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(frame);
      },
      close: (code, reason) => {
        ws.close(code, reason);
        // A client that reads nothing would never answer the close handshake: its socket goes soon after.
        if (code === CLOSE_CODES.sendBufferFull) setTimeout(() => ws.terminate(), 1000).unref();
      },
      isOpen: () => ws.readyState === ws.OPEN,
      bufferedAmount: () => ws.bufferedAmount,
    }, room, this.options.logger.child({ meetingId, participantId: identity.participantId }), this.options.silenceTimeoutMs,
    this.options.sessionLimits ?? DEFAULT_SIGNALING_LIMITS);
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      session.receive(bytes, isBinary);
    });
    const joinDeadline = this.options.limits && setTimeout(() => {
      // Joined means the room holds this very session for the participant.
      if (room.participant(key)?.session === session) return;
      this.options.logger.info('signaling_join_timeout', { meetingId, participantId: key });
      session.close(LIMIT_CLOSE_CODES.joinTimeout, 'No JOIN in time');
    }, this.options.limits.joinTimeoutMs);
    joinDeadline?.unref();
    ws.on('close', () => {
      clearTimeout(joinDeadline);
      this.perToken?.release(key);
      this.sockets.delete(ws);
      session.disconnected();
    });
    ws.on('error', (error) => this.options.logger.info('signaling_ws_error', { meetingId, error }));
  }

  private roomFor(meeting: Meeting): MeetingRoom {
    let room = this.rooms.get(meeting.MeetingId);
    if (!room) {
      const { service, logger, createMedia, publishCaps, activity, dataMessageLimits, clock, sessionLimits } = this.options;
      const presenceIntervalMs = (sessionLimits ?? DEFAULT_SIGNALING_LIMITS).presenceIntervalMs;
      room = new MeetingRoom(meeting, { service, logger, media: createMedia(meeting.MeetingId), publishCaps, activity, dataMessageLimits, clock, presenceIntervalMs });
      this.rooms.set(meeting.MeetingId, room);
    }
    return room;
  }

  private rememberEnded(meetingId: string): void {
    this.ended.add(meetingId);
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.values().next().value!);
  }
}
