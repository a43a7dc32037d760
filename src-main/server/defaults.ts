import type { MediaSettings } from './media/media-settings.js';

/**
 * The server's tunable numbers in one place: options (CLI, desktop host, tests)
 * are merged over these instead of literals scattered through the layers.
 */

export const DEFAULT_MEDIA_SETTINGS: MediaSettings = {
  cameraMaxKbps: 1500,
  contentMaxKbps: 2500,
  frameMs: 20,
  audioMetadataIntervalMs: 200,
  lateTickMs: 10,
  mixerStatsIntervalMs: 5000,
  // BITRATES to every subscriber: the SDK expects one every 2-4 s; its priority policy re-evaluates each second.
  bitratesIntervalMs: 1500,
  video: {
    // At most one PLI per publisher stream per 500 ms; another if no keyframe came within 1 s.
    keyframes: { minIntervalMs: 500, retryMs: 1000 },
    // Upstream loss: ask again about once per round trip for up to 1 s, then a keyframe.
    nack: { giveUpMs: 1000, retryMinMs: 20, retryMaxMs: 250, maxGap: 500, capacity: 512 },
    // One copy of each packet per publisher, for at least a second: 512 slots is 2 s at 250 packets/s.
    retransmitSlots: 512,
    retransmitWindowMs: 1500,
    bitrateCapIntervalMs: 1000,
    // Each incoming stream's rate, for INDEX and BITRATES: 2 s in 100 ms buckets.
    meter: { windowMs: 2000, bucketMs: 100 },
    // A subscriber's downlink figure (bwe/downlink-estimate.ts): starts at the SDK's own startup
    // assumption, grows 8% a second (libwebrtc's AIMD rate) to 15 Mbps (the SDK's cap) while neither
    // loss over 10% nor a falling REMB under 90% of what was sent says congestion; then drops to the
    // REMB and holds 10 s. REMB and receiver reports older than 5 s are forgotten.
    downlink: {
      initialBps: 2_800_000, minBps: 100_000, maxBps: 15_000_000, increasePerSecond: 0.08, holdMs: 10_000, recutAfterMs: 3000,
      rembStaleMs: 5000, lossStaleMs: 5000, lossCutFraction: 0.1, rembCongestedRatio: 0.9, minSentBpsForRemb: 100_000,
      sentWindowMs: 2000, sentBucketMs: 100,
    },
    // Videos may use 90% of a subscriber's figure; a paused one returns after fitting 1.2 times over for 5 s.
    allocator: { budgetShare: 0.9, resumeMargin: 1.2, resumeAfterMs: 5000 },
  },
};

/** Deep-enough merge for MediaSettings: `video` and its parts merge too. */
export function mediaSettings(overrides: DeepPartial<MediaSettings> = {}): MediaSettings {
  const d = DEFAULT_MEDIA_SETTINGS;
  const v = overrides.video ?? {};
  return {
    ...d,
    ...overrides,
    video: {
      ...d.video,
      ...v,
      keyframes: { ...d.video.keyframes, ...v.keyframes },
      nack: { ...d.video.nack, ...v.nack },
      meter: { ...d.video.meter, ...v.meter },
      downlink: { ...d.video.downlink, ...v.downlink },
      allocator: { ...d.video.allocator, ...v.allocator },
    },
  } as MediaSettings;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
