import { create } from 'zustand';

/** Which remote cameras stopped decoding frames, as their tiles see it (for the roster's connection column). */
export interface MediaHealthState {
  frozen: Record<string, boolean>;
  setFrozen(attendeeId: string, frozen: boolean): void;
  reset(): void;
}

export const useMediaHealthStore = create<MediaHealthState>((set, get) => ({
  frozen: {},
  setFrozen: (attendeeId, frozen) => {
    if (Boolean(get().frozen[attendeeId]) === frozen) return;
    set((s) => ({ frozen: { ...s.frozen, [attendeeId]: frozen } }));
  },
  reset: () => set({ frozen: {} }),
}));
