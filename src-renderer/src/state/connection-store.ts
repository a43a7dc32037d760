import { create } from 'zustand';
import type { ConnectionAssessment, QualityLevel, StatsSample } from '../lib/connection-quality';

/** What the meeting screen shows about this device's own connection. */
export type HeaderLabel = QualityLevel | 'reconnecting' | 'offline';

export interface ConnectionState {
  /** Measured quality, with hysteresis. */
  level: QualityLevel;
  assessment: ConnectionAssessment;
  /** "Try again" is checking the server right now. */
  checking: boolean;
  /** The latest measurements behind the level (shown on request, and read by tests). */
  measured: { sample: StatsSample; lossPct: number | undefined; observed: QualityLevel } | undefined;
  setLevel(level: QualityLevel): void;
  setMeasured(measured: ConnectionState['measured']): void;
  setAssessment(assessment: ConnectionAssessment): void;
  setChecking(checking: boolean): void;
  reset(): void;
}

const initial = { level: 'good' as QualityLevel, assessment: { reconnecting: false, unreachable: undefined, silentSeconds: 0 } as ConnectionAssessment, checking: false, measured: undefined };

export const useConnectionStore = create<ConnectionState>((set, get) => ({
  ...initial,
  setLevel: (level) => {
    if (get().level !== level) set({ level });
  },
  setAssessment: (assessment) => {
    const old = get().assessment;
    if (old.reconnecting === assessment.reconnecting && old.cause === assessment.cause && old.slowServer === assessment.slowServer && old.unreachable === assessment.unreachable && old.silentSeconds === assessment.silentSeconds) return;
    set({ assessment });
  },
  setChecking: (checking) => set({ checking }),
  setMeasured: (measured) => set({ measured }),
  reset: () => set({ ...initial }),
}));

/** The header's one-word verdict: trouble first, then the measured level. */
export function headerLabel(state: Pick<ConnectionState, 'level' | 'assessment'>): HeaderLabel {
  if (state.assessment.unreachable === 'offline') return 'offline';
  if (state.assessment.reconnecting) return 'reconnecting';
  return state.level;
}
