import type { ConnectionVerdict } from '../../../src-main/shared/app-api.js';

/**
 * What a participant's tile should say about them, from real signals: frames
 * decoded in its <video>, the SDK's tile state (paused; poor connection from
 * INDEX paused_at_source_ids), presence (dropped = reconnecting) and what the
 * server knows of their app (lost, or their own poor connection report).
 */

export type TileCondition = 'live' | 'frozen' | 'poor' | 'paused' | 'reconnecting' | 'no-video';

/** A camera at 5 fps (the lowest a browser sends) shows a frame every 200 ms: this long with none is a freeze. */
export const FROZEN_AFTER_MS = 1_500;

/** Watches a video's decoded-frame counter; frozen once it stops moving for FROZEN_AFTER_MS. */
export class FrameWatch {
  private lastFrames = -1;
  private lastChange: number | undefined;

  /** Returns whether the video is frozen now. */
  update(totalFrames: number, now: number): boolean {
    if (totalFrames !== this.lastFrames) {
      this.lastFrames = totalFrames;
      this.lastChange = now;
      return false;
    }
    // Before the first frame it is starting, not frozen.
    if (totalFrames <= 0 || this.lastChange === undefined) return false;
    return now - this.lastChange >= FROZEN_AFTER_MS;
  }

  reset(): void {
    this.lastFrames = -1;
    this.lastChange = undefined;
  }
}

export interface TileSignals {
  hasVideo: boolean;
  /** Presence says the attendee dropped and may come back. */
  dropped: boolean;
  /** The server's verdict on the attendee's app. */
  verdict: ConnectionVerdict;
  /** The SDK paused the tile (bandwidth policy, or the server paused the stream). */
  paused: boolean;
  /** The SDK marks the tile: INDEX says the source is paused at the sender for a poor connection. */
  poorConnection: boolean;
  frozen: boolean;
  /** 0..1 from AUDIO_METADATA signal strength. */
  signal: number;
}

export function tileCondition(s: TileSignals): TileCondition {
  if (s.dropped || s.verdict === 'lost') return 'reconnecting';
  if (s.hasVideo && s.paused) return 'paused';
  if (s.hasVideo && s.frozen) return 'frozen';
  if (s.poorConnection || s.verdict === 'poor' || s.signal < 0.5) return 'poor';
  return s.hasVideo ? 'live' : 'no-video';
}

/** One person's connection for the roster, from the same signals. */
export type PersonConnection = 'good' | 'fair' | 'poor' | 'reconnecting';

export function personConnection(s: { dropped: boolean; verdict: ConnectionVerdict; frozen: boolean; poorConnection: boolean; signal: number }): PersonConnection {
  if (s.dropped || s.verdict === 'lost') return 'reconnecting';
  if (s.verdict === 'poor' || s.poorConnection || s.signal < 0.5) return 'poor';
  if (s.verdict === 'fair' || s.frozen) return 'fair';
  return 'good';
}
