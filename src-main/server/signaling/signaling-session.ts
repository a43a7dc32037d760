import { randomUUID } from 'node:crypto';
import { assertNever, decodeSignalFrame, SdkPingPongType, serverFrame, type ClientFrame } from '../../shared/signaling/frames.js';
import type { JoinIdentity } from '../control-plane/meeting-service.js';
import { DEFAULT_SIGNALING_LIMITS } from '../defaults.js';
import type { Logger } from '../logger.js';
import { FrameRateLimiter, type SignalingLimits } from './frame-limits.js';
import type { MeetingRoom } from './meeting-room.js';
import type { Participant, SessionPort } from './participant.js';
import { CLOSE_CODES, SignalingProtocolError } from './signaling-errors.js';

/** The transport under a session: a WebSocket in production, anything with these two methods in tests. */
export interface SignalingConnection {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Whether frames sent now can still arrive (default: until close()). */
  isOpen?(): boolean;
  /** Bytes queued but not yet written to the network (the WebSocket's bufferedAmount); 0 when absent. */
  bufferedAmount?(): number;
}

/** A client that sends nothing for this long (it pings every 10 s, and reconnects after 4 missed pongs) is gone. */
export const SILENCE_TIMEOUT_MS = 45_000;

/**
 * One client connection speaking the Chime signaling protocol. It decodes
 * frames at the boundary, enforces the order JOIN → SUBSCRIBE → ..., and hands
 * meeting-level work to the room. Frames are processed one at a time, in order,
 * because SUBSCRIBE is asynchronous and must not race a following LEAVE.
 */
export class SignalingSession implements SessionPort {
  readonly id = randomUUID();
  private participant: Participant | undefined;
  /** Decoded frames waiting their turn; one pump works through them, in order. */
  private readonly inbox: ClientFrame[] = [];
  private pumping = false;
  private closed = false;
  private lastHeard = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private readonly frameLimiter: FrameRateLimiter;
  /** Frames not sent because the socket was backed up (AUDIO_METADATA, replayable data messages). */
  droppedFrames = 0;
  /** When the socket's unsent bytes last went over the soft cap (undefined while under it). */
  private backedUpSince: number | undefined;

  constructor(
    private readonly identity: JoinIdentity,
    private readonly connection: SignalingConnection,
    private readonly room: MeetingRoom,
    private readonly logger: Logger,
    silenceTimeoutMs: number = SILENCE_TIMEOUT_MS,
    private readonly limits: SignalingLimits = DEFAULT_SIGNALING_LIMITS,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.frameLimiter = new FrameRateLimiter(limits.framesPerSecond, limits.burstSeconds);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > silenceTimeoutMs) this.fail(new SignalingProtocolError(CLOSE_CODES.normal, 'No frames for too long'), true);
    }, Math.min(5_000, silenceTimeoutMs / 4));
    this.watchdog.unref();
  }

  /**
   * Sends a frame, unless the socket is backed up: past the soft cap a frame that
   * may be lost (`mayDrop`) is dropped, past the hard cap the session is closed
   * (4509). Returns whether the frame went out.
   */
  send(frame: Uint8Array, mayDrop = false): boolean {
    if (this.closed) return false;
    const buffered = this.connection.bufferedAmount?.() ?? 0;
    if (buffered > this.limits.softBufferedBytes) {
      const now = this.nowMs();
      this.backedUpSince ??= now;
      if (buffered + frame.byteLength > this.limits.maxBufferedBytes) {
        this.sendBufferFull(buffered, `Send buffer full: over ${this.limits.maxBufferedBytes} bytes unread`);
        return false;
      }
      if (now - this.backedUpSince > this.limits.maxBackedUpMs) {
        this.sendBufferFull(buffered, `Send buffer full: over ${this.limits.softBufferedBytes} bytes unread for ${this.limits.maxBackedUpMs} ms`);
        return false;
      }
      if (mayDrop) {
        this.droppedFrames++;
        return false;
      }
    } else {
      this.backedUpSince = undefined;
    }
    this.connection.send(frame);
    return true;
  }

  /** The client reads too little: the session ends (4509, which the SDK answers by reconnecting), and it leaves as dropped. */
  private sendBufferFull(bufferedBytes: number, reason: string): void {
    this.logger.warn('signaling_send_buffer_full', { participantId: this.identity.participantId, bufferedBytes, droppedFrames: this.droppedFrames, reason });
    this.closed = true;
    clearInterval(this.watchdog);
    this.connection.close(CLOSE_CODES.sendBufferFull, reason);
    // Not from inside the caller's broadcast loop: leaving broadcasts too.
    queueMicrotask(() => {
      if (this.participant) this.room.leave(this.participant, true);
    });
  }

  get isOpen(): boolean {
    return !this.closed && (this.connection.isOpen?.() ?? true);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.connection.close(code, reason);
  }

  /** A message from the socket. Text messages are protocol errors: the protocol is binary. */
  receive(data: Uint8Array, isBinary: boolean): void {
    if (this.closed) return;
    this.lastHeard = Date.now();
    if (!isBinary) {
      this.fail(new SignalingProtocolError(CLOSE_CODES.badRequest, 'Signaling frames must be binary'), false);
      return;
    }
    const decoded = decodeSignalFrame(data);
    if (!decoded.ok) {
      this.logger.info('signaling_bad_frame', { participantId: this.identity.participantId, code: decoded.error.code, detail: decoded.error.message });
      this.fail(new SignalingProtocolError(CLOSE_CODES.badRequest, `Malformed frame: ${decoded.error.code}`), false);
      return;
    }
    const frame = decoded.frame;
    const overLimit = this.frameLimiter.admit(frame.kind, this.nowMs());
    if (overLimit) {
      this.logger.warn('signaling_frame_flood', { participantId: this.identity.participantId, kind: frame.kind, reason: overLimit });
      this.fail(new SignalingProtocolError(CLOSE_CODES.tooManyFrames, overLimit), false);
      return;
    }
    // PING is answered at once, even before JOIN and while a SUBSCRIBE is being answered.
    if (frame.kind === 'pingPong') {
      if (frame.pingPong.type === SdkPingPongType.PING) this.send(serverFrame.pong(frame.pingPong.pingId));
      return;
    }
    this.inbox.push(frame);
    if (!this.pumping) void this.pump();
  }

  /**
   * Handles queued frames one at a time, in order, and yields to the event loop
   * after every `framesPerTurn` of them: frames that arrive together in one TCP
   * read must not hold up the media clock.
   */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      let handled = 0;
      while (this.inbox.length > 0 && !this.closed) {
        const frame = this.inbox.shift()!;
        try {
          await this.handle(frame);
        } catch (error) {
          this.fail(error, false);
        }
        if (++handled >= this.limits.framesPerTurn) {
          handled = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.pumping = false;
      this.inbox.length = 0;
    }
  }

  /** The socket closed. Without a LEAVE first, that is a dropped connection. */
  disconnected(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    // Only a LEAVE frame is leaving, and it has told the room already (so has a failed session, with
    // its own verdict): a socket that closed otherwise, by the client or by the server, was dropped,
    // and the client will reconnect with the same token.
    if (this.participant) this.room.leave(this.participant, true);
  }

  private async handle(frame: ClientFrame): Promise<void> {
    switch (frame.kind) {
      case 'join':
        if (this.participant) throw new SignalingProtocolError(CLOSE_CODES.badRequest, 'JOIN received twice');
        this.participant = await this.room.join(this, this.identity, frame.join);
        return;
      case 'subscribe':
        await this.room.subscribe(this.requireJoined('SUBSCRIBE'), frame.subscribe);
        return;
      case 'leave': {
        const participant = this.requireJoined('LEAVE');
        this.send(serverFrame.leaveAck());
        this.room.leave(participant, false);
        this.close(CLOSE_CODES.normal, 'Left');
        return;
      }
      case 'pause':
        this.room.setPaused(this.requireJoined('PAUSE'), frame.pause.streamIds, true);
        return;
      case 'resume':
        this.room.setPaused(this.requireJoined('RESUME'), frame.resume.streamIds, false);
        return;
      case 'audioControl':
        this.room.setMuted(this.requireJoined('AUDIO_CONTROL'), frame.audioControl.muted);
        return;
      case 'dataMessage':
        this.room.dataMessage(this.requireJoined('DATA_MESSAGE'), frame.dataMessage);
        return;
      case 'remoteVideoUpdate':
        this.room.remoteVideoUpdate(this.requireJoined('REMOTE_VIDEO_UPDATE'), frame.remoteVideoUpdate);
        return;
      case 'clientMetric':
      case 'primaryMeetingJoin':
      case 'primaryMeetingLeave':
      case 'ignored':
      case 'pingPong':
        return;
      default:
        assertNever(frame);
    }
  }

  private requireJoined(what: string): Participant {
    if (!this.participant) throw new SignalingProtocolError(CLOSE_CODES.badRequest, `${what} before JOIN`);
    return this.participant;
  }

  /** Ends this session on a protocol error or an internal failure; no other session is touched. */
  private fail(error: unknown, dropped: boolean): void {
    if (this.closed) return;
    if (error instanceof SignalingProtocolError) {
      this.logger.info('signaling_session_closed', { participantId: this.identity.participantId, code: error.closeCode, reason: error.message });
      this.close(error.closeCode, error.message.slice(0, 120));
    } else {
      this.logger.error('signaling_session_failed', { participantId: this.identity.participantId, error });
      this.close(CLOSE_CODES.internalError, 'Internal error');
    }
    if (this.participant) this.room.leave(this.participant, dropped);
  }
}
