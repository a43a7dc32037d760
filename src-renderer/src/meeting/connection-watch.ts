import { t } from '../i18n/i18n';
import { assessConnection, classify, lossPercent, medianRtt, QualityTracker, sampleFromStats, WARM_UP_MS, type StatsLike, type StatsSample } from '../lib/connection-quality';
import { announce } from '../state/announcer-store';
import { useConnectionStore } from '../state/connection-store';
import type { LiveSync } from './live-sync';

/**
 * Once a second: the meeting peer connection's statistics become a quality level
 * (with hysteresis), and the SDK's state, the flow of audio packets and the live
 * requests' contact with the server become the screen's verdict — reconnecting
 * within MEDIA_STALL_MS of losing media, "cannot reach the server" after
 * UNREACHABLE_AFTER_MS without it.
 */

export interface ConnectionWatchOptions {
  stats(): Promise<StatsLike | null | undefined>;
  live(): LiveSync | undefined;
  sdkReconnecting(): boolean;
  signalingDropped(): boolean;
  now?: () => number;
}

/** Media flow is checked twice a second (to say "reconnecting" within seconds); quality is judged once a second. */
const SAMPLE_MS = 500;
const KEEP_SAMPLES = 20;
const STATS_TIMEOUT_MS = 400;

export interface ConnectionWatch {
  tracker: QualityTracker;
  /** Judge now rather than at the next tick: something just happened (the signaling socket closed). */
  poke(): void;
  stop(): void;
}

export function startConnectionWatch(options: ConnectionWatchOptions): ConnectionWatch {
  const now = options.now ?? (() => Date.now());
  const tracker = new QualityTracker();
  const samples: StatsSample[] = [];
  let lastMediaAt: number | undefined;
  let firstMediaAt: number | undefined;
  let lastPackets = -1;
  let busy = false;
  let judged = false;
  let wasReconnecting = false;
  let wasUnreachable = false;

  let poked = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      await judge();
    } catch {
      // Never let one bad sample stop the watch: the next tick tries again.
    } finally {
      busy = false;
    }
    // A poke that came while a judgement was under way may have come after its inputs were read.
    if (poked) {
      poked = false;
      void tick();
    }
  };
  const judge = async (): Promise<void> => {
    const at = now();
    // Stats that do not come back in time count as no audio arriving, never as a stuck watcher.
    const report = await Promise.race([options.stats().catch(() => undefined), new Promise<undefined>((r) => setTimeout(r, STATS_TIMEOUT_MS))]);
    let sample: StatsSample | undefined;
    if (report) {
      sample = sampleFromStats(report, at);
      samples.push(sample);
      if (samples.length > KEEP_SAMPLES) samples.shift();
      if (sample.audioPacketsReceived !== undefined && sample.audioPacketsReceived > 0 && sample.audioPacketsReceived !== lastPackets) {
        lastPackets = sample.audioPacketsReceived;
        lastMediaAt = at;
        firstMediaAt ??= at;
      }
    }
    const live = options.live();
    const assessment = assessConnection({
      now: at,
      sdkReconnecting: options.sdkReconnecting(),
      signalingDropped: options.signalingDropped(),
      lastMediaAt,
      lastServerContactAt: live?.lastContactAt ?? at,
      lastFailure: live?.lastFailure,
      online: typeof navigator === 'undefined' || navigator.onLine !== false,
    });
    if (sample) {
      const lossPct = lossPercent(samples, at);
      // Requests to the server going unanswered while audio flows is a congested link: poor.
      const observed = assessment.slowServer ? 'poor' : classify({ ...sample, rttMs: medianRtt(samples) }, lossPct);
      const store = useConnectionStore.getState();
      store.setMeasured({ sample, lossPct, observed });
      judged = !judged;
      if (judged && firstMediaAt !== undefined && at - firstMediaAt >= WARM_UP_MS) store.setLevel(tracker.push(observed));
    }
    useConnectionStore.getState().setAssessment(assessment);
    if (assessment.reconnecting !== wasReconnecting) {
      announce(assessment.reconnecting ? t.connection.problemAnnouncement : t.connection.restoredAnnouncement, 'assertive');
      wasReconnecting = assessment.reconnecting;
    }
    const unreachable = assessment.unreachable !== undefined;
    if (unreachable && !wasUnreachable) announce(t.connection.lostAnnouncement, 'assertive');
    wasUnreachable = unreachable;
  };
  const timer = setInterval(() => void tick(), SAMPLE_MS);
  return {
    tracker,
    poke: () => {
      if (busy) poked = true;
      else void tick();
    },
    stop: () => clearInterval(timer),
  };
}
