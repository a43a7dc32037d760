import type { ClientFrameKind } from '../../shared/signaling/frames.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What one signaling session may send and be sent. Every client frame type has
 * a rate cap; a session past one is closed with 4429, because no well-behaved
 * client comes near them (the SDK pings every 10 s, sends metrics every second
 * and a mute toggle per click). The caps allow a burst of `burstSeconds` at the
 * cap: a client whose network stalled sends what it queued all at once when it
 * comes back (a 10 s freeze arrives as ten CLIENT_METRICs in a millisecond), and
 * that is no flood. A session whose socket stops draining is dropped before the
 * server's memory pays for it.
 */
export interface SignalingLimits {
  /** Sustained caps, frames a second, per session and frame type, plus `total` over all types. */
  framesPerSecond: Record<ClientFrameKind, number> & { total: number };
  /** Each cap's burst: this many seconds of frames at the cap may arrive at once. */
  burstSeconds: number;
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

/** One session's frame caps. Socket-free and clock-free: time comes in as an argument. */
export class FrameRateLimiter {
  private readonly buckets = new Map<ClientFrameKind | 'total', TokenBucket>();

  constructor(
    private readonly perSecond: SignalingLimits['framesPerSecond'],
    private readonly burstSeconds: number,
  ) {}

  /**
   * Counts one frame of `kind`; returns undefined when it is within the caps, or
   * the reason the session must be closed.
   */
  admit(kind: ClientFrameKind, nowMs: number): string | undefined {
    const total = this.bucket('total');
    const own = this.bucket(kind);
    // Checked before either is counted: a refused frame counts nowhere.
    const full = !own.allows(nowMs) ? kind : !total.allows(nowMs) ? 'total' : undefined;
    if (full) return `Too many ${FRAME_NAMES[full]} frames: at most ${this.perSecond[full]} a second`;
    own.take(nowMs);
    total.take(nowMs);
    return undefined;
  }

  private bucket(key: ClientFrameKind | 'total'): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const rate = this.perSecond[key];
      bucket = new TokenBucket(rate, Math.max(1, rate * this.burstSeconds));
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
