import type { VideoRouterSettings } from './video/video-router.js';

/**
 * Everything a meeting's media layer can be tuned with. The values live in
 * src-main/server/defaults.ts; the server merges its options over them.
 */
export interface MediaSettings {
  /** Upper bound on a camera's send rate (REMB), in kbps; a client may ask for less. */
  cameraMaxKbps: number;
  /** Upper bound on a content share's send rate (REMB), in kbps. */
  contentMaxKbps: number;
  /** Period of the media clock: the mixer's frame, and how often NACKs, keyframe retries and caps are looked at. */
  frameMs: number;
  /** How often AUDIO_METADATA (volumes) goes out. */
  audioMetadataIntervalMs: number;
  /** A media-clock tick later than this is counted and logged. */
  lateTickMs: number;
  /** How often mixer cost is logged at debug level. */
  mixerStatsIntervalMs: number;
  /** How often each subscriber gets BITRATES: measured stream rates and its downlink estimate. */
  bitratesIntervalMs: number;
  /**
   * How often each subscriber's downlink figure moves and its videos are fitted to it (pauses,
   * resumes, probe verdicts): more often than BITRATES, so a probe's verdict acts within half a second.
   */
  allocationIntervalMs: number;
  /** Per incoming video stream (keyframe merging, upstream NACK, retransmission buffer, bitrate cap and meter) and per subscriber (downlink estimate). */
  video: VideoRouterSettings;
}
