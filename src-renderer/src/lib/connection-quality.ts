/**
 * How good this device's connection to the meeting is, from real measurements,
 * and what the meeting screen should say about it. Pure: the connection watcher
 * feeds samples in once a second; unit tests feed them in directly.
 */

export type QualityLevel = 'good' | 'fair' | 'poor';

/** One second of WebRTC statistics of the meeting's peer connection. */
export interface StatsSample {
  at: number;
  /** Candidate-pair round-trip time, ms. */
  rttMs: number | undefined;
  /** Cumulative audio packets received and lost (inbound-rtp), for loss over a window. */
  audioPacketsReceived: number | undefined;
  audioPacketsLost: number | undefined;
  /** Inbound audio jitter, ms. */
  jitterMs: number | undefined;
  /**
   * The camera's encoder is held back by bandwidth (outbound-rtp qualityLimitationReason).
   * Shown, not judged: without congestion feedback from the server, Chrome's estimate
   * stays at its start value and reports "bandwidth" on a perfect network.
   */
  videoLimitedByBandwidth: boolean;
}

const LOSS_WINDOW_MS = 5_000;
/** Below this many packets in the window, a loss fraction says nothing (silence is sent as DTX, ~2.5 packets a second). */
const MIN_PACKETS_FOR_LOSS = 20;

/**
 * What counts as fair and poor. Audio copes with some jitter (the jitter buffer absorbs
 * it) and a LAN's round trip is a few ms, so the bars sit where people start to hear or
 * see trouble: loss first, then delay. Measured on loopback with three browsers on two
 * busy cores, the ICE round trip spikes to 0.7 s and jitter to ~70 ms without anyone
 * hearing a difference, so delay alone makes a connection "unstable" only past 1 s
 * (as the median of the last seconds, not one spike).
 */
export const THRESHOLDS = {
  poor: { lossPct: 8, rttMs: 2500, jitterMs: 250 },
  fair: { lossPct: 3, rttMs: 1000, jitterMs: 100 },
} as const;

/** The first seconds of media are the jitter buffer and the encoder settling in: not judged. */
export const WARM_UP_MS = 5_000;

/** Loss, in percent, over the recent window; undefined while too few packets say anything. */
export function lossPercent(samples: readonly StatsSample[], now: number): number | undefined {
  const recent = samples.filter((s) => s.audioPacketsReceived !== undefined && s.audioPacketsLost !== undefined && now - s.at <= LOSS_WINDOW_MS);
  const first = recent[0];
  const last = recent.at(-1);
  if (!first || !last || first === last) return undefined;
  const received = last.audioPacketsReceived! - first.audioPacketsReceived!;
  const lost = Math.max(0, last.audioPacketsLost! - first.audioPacketsLost!);
  if (received + lost < MIN_PACKETS_FOR_LOSS) return undefined;
  return (100 * lost) / (received + lost);
}

/** The median round trip over the kept samples: one slow STUN check does not decide. */
export function medianRtt(samples: readonly StatsSample[]): number | undefined {
  const values = samples.map((s) => s.rttMs).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (values.length === 0) return undefined;
  return values[Math.floor((values.length - 1) / 2)];
}

/** The level one moment's measurements point to. */
export function classify(sample: StatsSample, loss: number | undefined): QualityLevel {
  const { rttMs, jitterMs } = sample;
  const over = (t: { lossPct: number; rttMs: number; jitterMs: number }): boolean =>
    (loss !== undefined && loss >= t.lossPct) || (rttMs !== undefined && rttMs >= t.rttMs) || (jitterMs !== undefined && jitterMs >= t.jitterMs);
  if (over(THRESHOLDS.poor)) return 'poor';
  if (over(THRESHOLDS.fair)) return 'fair';
  return 'good';
}

const RANK: Record<QualityLevel, number> = { good: 0, fair: 1, poor: 2 };

/**
 * Hysteresis: the level gets worse after `worsenAfter` consecutive samples that
 * are worse, and better only after `improveAfter` consecutive better ones, so one
 * odd second neither raises nor clears an alarm and the label does not flicker.
 */
export class QualityTracker {
  private current: QualityLevel = 'good';
  private worseRun = 0;
  private betterRun = 0;
  private worstInRun: QualityLevel = 'good';
  private bestInRun: QualityLevel = 'poor';

  constructor(
    private readonly worsenAfter = 2,
    private readonly improveAfter = 5,
  ) {}

  get level(): QualityLevel {
    return this.current;
  }

  /** Feeds one sample's level; returns the (possibly new) level. */
  push(observed: QualityLevel): QualityLevel {
    if (RANK[observed] > RANK[this.current]) {
      this.betterRun = 0;
      this.worseRun++;
      // Over a run of bad seconds, go to the mildest level the whole run supports.
      this.worstInRun = this.worseRun === 1 || RANK[observed] < RANK[this.worstInRun] ? observed : this.worstInRun;
      if (this.worseRun >= this.worsenAfter) {
        this.current = this.worstInRun;
        this.worseRun = 0;
      }
    } else if (RANK[observed] < RANK[this.current]) {
      this.worseRun = 0;
      this.betterRun++;
      this.bestInRun = this.betterRun === 1 || RANK[observed] > RANK[this.bestInRun] ? observed : this.bestInRun;
      if (this.betterRun >= this.improveAfter) {
        this.current = this.bestInRun;
        this.betterRun = 0;
      }
    } else {
      this.worseRun = 0;
      this.betterRun = 0;
    }
    return this.current;
  }

  reset(): void {
    this.current = 'good';
    this.worseRun = 0;
    this.betterRun = 0;
  }
}

/** Media counts as stalled after this long without a single audio packet (the server sends at least 2.5 a second, DTX included). */
export const MEDIA_STALL_MS = 1_500;
/** The live request answers within 2.5 s on a healthy connection: this long without one is trouble (poor while audio flows, lost when it does not). */
export const SERVER_SILENT_MS = 5_000;
/** This long without any contact with the server: say it cannot be reached, and offer Try again and Leave. */
export const UNREACHABLE_AFTER_MS = 10_000;
/** A failure faster than this was a refusal (nothing listens), not a timeout. */
export const REFUSED_WITHIN_MS = 1_500;

export type Unreachable = 'refused' | 'timeout' | 'offline';

export interface ConnectionInputs {
  now: number;
  /** The SDK says it is reconnecting (its signaling or media connection dropped). */
  sdkReconnecting: boolean;
  /**
   * The SDK's signaling socket closed unexpectedly and has not been reopened. Known the
   * moment it happens, while the SDK's own "reconnecting" waits for its backoff and for
   * any session update in progress to give up (seen taking over 5 s on a loaded machine).
   */
  signalingDropped: boolean;
  /** When an audio packet last arrived; undefined before the first one. */
  lastMediaAt: number | undefined;
  /** When the server last answered the app (live requests). */
  lastServerContactAt: number;
  /** How the latest failed request to the server failed, if the latest one failed. */
  lastFailure: { kind: 'refused' | 'timeout' } | undefined;
  online: boolean;
}

/** Why the screen says reconnecting: the signaling socket closed, the SDK said so, audio stopped arriving, the server went quiet, or the device is offline. */
export type TroubleCause = 'signaling' | 'sdk' | 'media' | 'server' | 'offline';

export interface ConnectionAssessment {
  reconnecting: boolean;
  cause?: TroubleCause;
  /**
   * The server has been slow to answer the app's requests while audio still arrives:
   * the connection is poor (a congested link starves the app's TCP requests first),
   * not lost. The watcher counts it as a poor sample.
   */
  slowServer?: boolean;
  unreachable: Unreachable | undefined;
  /** Seconds since the server last answered, while that is worth saying. */
  silentSeconds: number;
}

export function assessConnection(i: ConnectionInputs): ConnectionAssessment {
  const mediaStalled = i.lastMediaAt !== undefined && i.now - i.lastMediaAt >= MEDIA_STALL_MS;
  const serverSilent = i.now - i.lastServerContactAt;
  const mediaFlowing = i.lastMediaAt !== undefined && !mediaStalled;
  const serverQuiet = serverSilent >= SERVER_SILENT_MS;
  // A quiet server is a lost one only when no audio arrives from it either.
  const cause: TroubleCause | undefined = !i.online ? 'offline' : i.signalingDropped ? 'signaling' : i.sdkReconnecting ? 'sdk' : mediaStalled ? 'media' : serverQuiet && !mediaFlowing ? 'server' : undefined;
  const reconnecting = cause !== undefined;
  let unreachable: Unreachable | undefined;
  if (reconnecting && serverSilent >= UNREACHABLE_AFTER_MS) {
    unreachable = !i.online ? 'offline' : i.lastFailure?.kind === 'refused' ? 'refused' : 'timeout';
  }
  return { reconnecting, ...(cause && { cause }), ...(serverQuiet && mediaFlowing && { slowServer: true }), unreachable, silentSeconds: Math.floor(serverSilent / 1000) };
}

/** Anything iterable like an RTCStatsReport: stats objects with a `type`. */
export type StatsLike = { forEach(cb: (stat: Record<string, unknown>) => void): void };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The figures a QualityTracker needs, from one getStats() report of the meeting's peer connection. */
export function sampleFromStats(report: StatsLike, at: number): StatsSample {
  let rttMs: number | undefined;
  let selectedPair: string | undefined;
  let audioPacketsReceived: number | undefined;
  let audioPacketsLost: number | undefined;
  let jitterMs: number | undefined;
  let videoLimitedByBandwidth = false;
  const pairs = new Map<string, Record<string, unknown>>();
  report.forEach((s) => {
    switch (s.type) {
      case 'transport':
        if (typeof s.selectedCandidatePairId === 'string') selectedPair = s.selectedCandidatePairId;
        break;
      case 'candidate-pair':
        pairs.set(String(s.id), s);
        break;
      case 'inbound-rtp':
        if (s.kind === 'audio') {
          audioPacketsReceived = (audioPacketsReceived ?? 0) + (num(s.packetsReceived) ?? 0);
          audioPacketsLost = (audioPacketsLost ?? 0) + (num(s.packetsLost) ?? 0);
          const jitter = num(s.jitter);
          if (jitter !== undefined) jitterMs = Math.max(jitterMs ?? 0, jitter * 1000);
        }
        break;
      case 'outbound-rtp':
        if (s.kind === 'video' && s.qualityLimitationReason === 'bandwidth') videoLimitedByBandwidth = true;
        break;
      default:
        break;
    }
  });
  const pair = (selectedPair && pairs.get(selectedPair)) || [...pairs.values()].find((p) => p.nominated === true && p.state === 'succeeded');
  const rtt = num(pair?.currentRoundTripTime);
  if (rtt !== undefined) rttMs = rtt * 1000;
  return { at, rttMs, audioPacketsReceived, audioPacketsLost, jitterMs, videoLimitedByBandwidth };
}
