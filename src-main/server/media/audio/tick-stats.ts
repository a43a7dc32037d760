import type { TickReport } from './audio-mixer.js';

export interface TickStatsSnapshot {
  ticks: number;
  /** Time spent inside the mixer's tick, in ms. */
  tickMsP50: number;
  tickMsP99: number;
  tickMsMax: number;
  decodesPerTick: number;
  encodesPerTick: number;
  /** Ticks that started more than the lateness threshold after their due time. */
  lateTicks: number;
  maxLateMs: number;
  members: number;
}

const LATE_MS = 10;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Accumulates the cost of a meeting's mixer ticks between two reports, so an
 * operator (and the mixer benchmark) can read tick time percentiles and the
 * encodes and decodes each tick needed, straight from the server's log.
 */
export class TickStats {
  private durations: number[] = [];
  private decodes = 0;
  private encodes = 0;
  private lateTicks = 0;
  private maxLateMs = 0;

  record(durationMs: number, report: TickReport, lateMs: number): void {
    this.durations.push(durationMs);
    this.decodes += report.decodes;
    this.encodes += report.encodes;
    if (lateMs > LATE_MS) {
      this.lateTicks++;
      this.maxLateMs = Math.max(this.maxLateMs, lateMs);
    }
  }

  get ticks(): number {
    return this.durations.length;
  }

  /** Returns the figures since the last call and starts a new period. */
  take(members: number): TickStatsSnapshot {
    const sorted = Float64Array.from(this.durations).sort();
    const ticks = sorted.length;
    const snapshot: TickStatsSnapshot = {
      ticks,
      tickMsP50: round(percentile(sorted, 50)),
      tickMsP99: round(percentile(sorted, 99)),
      tickMsMax: round(ticks ? sorted[ticks - 1]! : 0),
      decodesPerTick: round(ticks ? this.decodes / ticks : 0),
      encodesPerTick: round(ticks ? this.encodes / ticks : 0),
      lateTicks: this.lateTicks,
      maxLateMs: round(this.maxLateMs),
      members,
    };
    this.durations = [];
    this.decodes = this.encodes = this.lateTicks = this.maxLateMs = 0;
    return snapshot;
  }
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
