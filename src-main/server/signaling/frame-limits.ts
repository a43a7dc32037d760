import type { ClientFrameKind } from '../../shared/signaling/frames.js';
import { SlidingWindowLimit } from './token-bucket.js';

/**
 * What one signaling session may send and be sent. Every client frame type has
 * a hard cap over any rolling second; a session past one is closed with 4429,
 * because no well-behaved client comes near them (the SDK pings every 10 s,
 * sends metrics every second and a mute toggle per click). A session whose
 * socket stops draining is dropped before the server's memory pays for it.
 */
export interface SignalingLimits {
  /** Hard caps, frames per rolling second, per session and frame type, plus `total` over all types. */
  framesPerSecond: Record<ClientFrameKind, number> & { total: number };
  /** Frames a session handles in one event-loop turn before it yields, so the media clock keeps its time. */
  framesPerTurn: number;
  /** A meeting's presence (mute) changes are broadcast at most this often; changes in between are coalesced. */
  presenceIntervalMs: number;
  /** Bytes unsent on a session's socket past which frames that may be lost (AUDIO_METADATA, replayable data messages) are dropped. */
  softBufferedBytes: number;
  /** Bytes unsent on a session's socket past which the session is closed (4509). */
  maxBufferedBytes: number;
  /** How long a session's unsent bytes may stay over the soft cap before it is closed (4509), even if only droppable frames were dropped. */
  maxBackedUpMs: number;
}

/** The SDK's names of the frame types, for close reasons and logs. */
const FRAME_NAMES: Record<ClientFrameKind | 'total', string> = {
  join: 'JOIN',
  subscribe: 'SUBSCRIBE',
  leave: 'LEAVE',
  pause: 'PAUSE',
  resume: 'RESUME',
  audioControl: 'AUDIO_CONTROL',
  pingPong: 'PING_PONG',
  clientMetric: 'CLIENT_METRIC',
  dataMessage: 'DATA_MESSAGE',
  remoteVideoUpdate: 'REMOTE_VIDEO_UPDATE',
  primaryMeetingJoin: 'PRIMARY_MEETING_JOIN',
  primaryMeetingLeave: 'PRIMARY_MEETING_LEAVE',
  ignored: 'other',
  total: 'signaling',
};

/** One session's hard frame caps. Socket-free and clock-free: time comes in as an argument. */
export class FrameRateLimiter {
  private readonly windows = new Map<ClientFrameKind | 'total', SlidingWindowLimit>();

  constructor(private readonly perSecond: SignalingLimits['framesPerSecond']) {}

  /**
   * Counts one frame of `kind`; returns undefined when it is within the caps, or
   * the reason the session must be closed.
   */
  admit(kind: ClientFrameKind, nowMs: number): string | undefined {
    const windows = (['total', kind] as const).map((key) => {
      let window = this.windows.get(key);
      if (!window) {
        window = new SlidingWindowLimit(this.perSecond[key], 1000);
        this.windows.set(key, window);
      }
      return { key, window };
    });
    // Checked before either is counted: a refused frame counts nowhere.
    const full = windows.find(({ window }) => !window.allows(nowMs));
    if (full) return `Too many ${FRAME_NAMES[full.key]} frames: at most ${this.perSecond[full.key]} a second`;
    for (const { window } of windows) window.record(nowMs);
    return undefined;
  }
}
