import type { MediaSettings } from './media/media-settings.js';
import type { AppLimits } from './app-api/app-meetings.js';
import type { PasscodeLimits } from './app-api/attempt-limiter.js';
import type { SignalingLimits } from './signaling/frame-limits.js';

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
  // Downlink figures move, and videos are paused, resumed and probed for, every 500 ms.
  allocationIntervalMs: 500,
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
      rembStaleMs: 5000, lossStaleMs: 5000, lossCutFraction: 0.1, queueCongestedMs: 80, rembCongestedRatio: 0.9, minSentBpsForRemb: 100_000,
      sentWindowMs: 2000, sentBucketMs: 100,
    },
    // Videos may use 90% of a subscriber's figure; a paused one returns after fitting 1.2 times over for 5 s;
    // flowing ones are paused only when they overrun that by more than 20% (a resumed video's keyframes).
    // One resumes per 400 ms at most (one per allocation round), so resumed keyframes never come as one burst.
    allocator: { budgetShare: 0.9, resumeMargin: 1.2, resumeAfterMs: 5000, pauseTolerance: 1.2, resumeSpacingMs: 400 },
    // Retransmissions to a subscriber: up to a quarter of its figure (at least 150 kbps), in bursts of 300 ms.
    resend: { shareOfFigure: 0.25, minBps: 150_000, burstMs: 300 },
    // With videos paused, padding for 600 ms up to what the next one needs: short enough that a link 20%
    // short of it queues 120 ms, not the 200 ms a router's queue holds on the test links before it drops
    // (the videos' packets with the padding). The sender reports sent meanwhile (every 100 ms) decide, as
    // the receiver echoes them: 80 ms over the round trip before the probe (twice) is the padding queueing,
    // and the probe fails (stopping at once if still sending). Otherwise the receiver reports that arrive
    // after it decide on loss: up to 2% resumes the video at once, and the next may be probed for straight
    // away. Without echoes, after waiting 1.5 s, loss alone decides. The first probe comes 2 s after a pause
    // or a cut; each failure doubles the wait, to 3 s (a link that got better is found within about 10 s),
    // and loss reported in the 1.2 s after it is the padding draining.
    prober: { durationMs: 600, reportDelayMs: 600, verdictTimeoutMs: 1500, firstIntervalMs: 2000, maxIntervalMs: 3000, maxLossFraction: 0.02, drainMs: 1200, maxQueueDelayMs: 80 },
    // Sender reports every second on each video m-section, every 100 ms to a subscriber being probed.
    senderReports: { intervalMs: 1000, probingIntervalMs: 100 },
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
      prober: { ...d.video.prober, ...v.prober },
      resend: { ...d.video.resend, ...v.resend },
      senderReports: { ...d.video.senderReports, ...v.senderReports },
    },
  } as MediaSettings;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Signaling session limits (see src-main/server/signaling/frame-limits.ts). The
 * frame caps sit far above what amazon-chime-sdk-js sends: DATA_MESSAGE's stays
 * above the 200 messages a second an attendee may send before being throttled.
 * Ten seconds of each cap may arrive at once (a stalled network's backlog): at
 * the SDK's one CLIENT_METRIC a second, that covers a stall of 100 s.
 */
export const DEFAULT_SIGNALING_LIMITS: SignalingLimits = {
  framesPerSecond: {
    total: 1200,
    join: 2,
    subscribe: 10,
    leave: 2,
    pause: 50,
    resume: 50,
    audioControl: 30,
    pingPong: 200,
    clientMetric: 10,
    dataMessage: 1000,
    remoteVideoUpdate: 30,
    primaryMeetingJoin: 5,
    primaryMeetingLeave: 5,
    ignored: 20,
  },
  burstSeconds: 10,
  framesPerTurn: 16,
  presenceIntervalMs: 250,
  softBufferedBytes: 256 * 1024,
  maxBufferedBytes: 1024 * 1024,
  maxBackedUpMs: 15_000,
};

/** Signaling limits with some overridden (the caps merge per frame type). */
export function signalingLimits(overrides: DeepPartial<SignalingLimits> = {}): SignalingLimits {
  const d = DEFAULT_SIGNALING_LIMITS;
  return { ...d, ...overrides, framesPerSecond: { ...d.framesPerSecond, ...overrides.framesPerSecond } } as SignalingLimits;
}

/**
 * Passcode guessing (see src-main/server/app-api/attempt-limiter.ts): ten wrong
 * guesses a minute per address, fifty per meeting from addresses and devices that
 * never got in, and at most two checks at once per address and eight per meeting
 * (up to 64 more wait up to 15 s for their turn).
 */
export const DEFAULT_PASSCODE_LIMITS: PasscodeLimits = {
  maxFailuresPerAddress: 10,
  maxFailuresPerMeeting: 50,
  windowMs: 60_000,
  maxConcurrentPerAddress: 2,
  maxConcurrentPerMeeting: 8,
  maxQueuedPerMeeting: 64,
  maxQueueWaitMs: 15_000,
};

/**
 * What anyone may do through the app API without credentials (see AppLimits in
 * src-main/server/app-api/app-meetings.ts): 30 joins a minute per address, 3
 * meetings started from the web per address per 10 minutes, 5 places of every
 * meeting kept for the host key, and attendees the app created released after 2
 * minutes without a connection (at once after LEAVE).
 */
export const DEFAULT_APP_LIMITS: AppLimits = {
  joinsPerAddress: 30,
  joinWindowMs: 60_000,
  webHostingPerAddress: 3,
  webHostingWindowMs: 10 * 60_000,
  hostReservedSlots: 5,
  releaseAfterMs: 120_000,
};

/** Meetings started from the web app without credentials (`--allow-web-hosting`), on top of the API's --max-meetings. */
export const DEFAULT_MAX_WEB_HOSTED_MEETINGS = 20;

/**
 * The desktop app's cap on all the video a laptop hosting a room sends (Mbit/s): about half
 * of what 5 GHz Wi-Fi really carries to many clients at once, so audio keeps its room when
 * everyone's cameras are on. The headless server has none unless `--max-egress-mbps` is given.
 */
export const DESKTOP_MAX_EGRESS_MBPS = 40;
