import type { Scenario } from './scenarios.js';

/** One measured run of one scenario on one server. */
export interface RunMetrics {
  server: 'chorus' | 'janus';
  scenario: string;
  repetition: number;
  seconds: number;
  /** Server CPU seconds per second of meeting, all threads (/proc/<pid>/stat). */
  cpu: number;
  /** Load generator CPU seconds per second (this process). */
  loadCpu: number;
  peakRssMiB: number;
  /** RTP received by all receivers in the window, per second. */
  videoPacketsPerSec: number;
  audioPacketsPerSec: number;
  bytesPerSec: number;
  /** Received / what the senders' fan-out should have produced, %. */
  videoDeliveredPct: number | null;
  audioDeliveredPct: number | null;
  /** Loss from receivers' sequence-number gaps, %. */
  lossPct: number;
  jitterMs: number;
  /** Video: send to receive; audio: talk-spurt start to first audible frame at sampled listeners. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** Audio: sound restarting mid-spurt at sampled listeners, per listener-minute. */
  gapsPerListenerMin: number | null;
  /** Server CPU µs per video packet forwarded (all its CPU, including any audio it also sends). */
  cpuUsPerVideoPacket: number | null;
  /** Server CPU µs per packet it sent (video forwarded plus mixed audio). */
  cpuUsPerPacketOut: number | null;
  /** Server CPU in a second window with the same meeting but no video sent: its audio and idle share. */
  cpuWithoutVideo: number | null;
  /** (CPU - CPU without video) µs per video packet forwarded: the forwarding cost alone. */
  cpuUsPerVideoPacketNet: number | null;
  /** Server RSS at the end of the window (MiB). */
  rssMiB: number | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

type NumericKey = { [K in keyof RunMetrics]: RunMetrics[K] extends number | null ? K : never }[keyof RunMetrics];

/** The median of each metric over repetitions (nulls ignored; null when all are null). */
export function medianRun(runs: readonly RunMetrics[]): RunMetrics {
  if (runs.length === 0) throw new Error('no runs');
  const first = runs[0]!;
  const out: RunMetrics = { ...first, repetition: -1 };
  for (const key of Object.keys(first) as (keyof RunMetrics)[]) {
    if (typeof first[key] !== 'number' && first[key] !== null) continue;
    if (key === 'repetition') continue;
    const values = runs.map((r) => r[key as NumericKey]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    (out as unknown as Record<string, number | null>)[key] = values.length === 0 ? null : median(values);
  }
  return out;
}

/** A run that stays within one core (CPU <= 1 core-s/s) and loses at most 1%. */
export const sustained = (m: RunMetrics): boolean => m.cpu <= 1 && m.lossPct <= 1
  && (m.audioDeliveredPct === null || m.audioDeliveredPct >= 99) && (m.videoDeliveredPct === null || m.videoDeliveredPct >= 99);

/**
 * The largest meeting of a family (audio or video) a server sustained, and its attendees per
 * core there (attendees / CPU), which extrapolates how many one full core would carry.
 */
export function capacity(medians: readonly { scenario: Scenario; metrics: RunMetrics }[], attendees: (s: Scenario) => number): { largest: number | null; attendeesPerCore: number | null } {
  const ok = medians.filter((m) => sustained(m.metrics)).sort((a, b) => attendees(a.scenario) - attendees(b.scenario));
  const best = ok.at(-1);
  if (!best) return { largest: null, attendeesPerCore: null };
  return { largest: attendees(best.scenario), attendeesPerCore: best.metrics.cpu > 0 ? attendees(best.scenario) / best.metrics.cpu : null };
}

/** a / b, or null when either is missing or b is zero. */
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b) ? null : a / b;
