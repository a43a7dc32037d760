import { create } from 'zustand';

/** Why the meeting screen went away; each has its own end screen. */
export type EndReason = 'left' | 'ended' | 'removed' | 'elsewhere' | 'connection-lost' | 'failed';

export interface MeetingIdentity {
  serverUrl: string;
  meetingCode: string;
  meetingName: string;
  isHost: boolean;
  hostKey?: string;
  selfAttendeeId: string;
  /** The attendee's JoinToken: it authenticates the app's own requests (live state, hands, moderation). */
  joinToken: string;
  selfName: string;
  fingerprint?: string;
}

export type SessionPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'ended';

export interface SessionState {
  phase: SessionPhase;
  identity: MeetingIdentity | undefined;
  end: { reason: EndReason; detail?: string } | undefined;
  muted: boolean;
  cameraOn: boolean;
  sharing: boolean;
  /** The 16-video limit keeps this attendee's camera off. */
  videoCapacityReached: boolean;
  /** When the host last muted us (a notice is shown). */
  hostMutedAt: number | undefined;

  begin(identity: MeetingIdentity, options: { muted: boolean; cameraOn: boolean }): void;
  connecting(reconnecting: boolean): void;
  connected(): void;
  ended(reason: EndReason, detail?: string): void;
  setMuted(muted: boolean): void;
  setCameraOn(on: boolean): void;
  setSharing(on: boolean): void;
  setVideoCapacityReached(reached: boolean): void;
  mutedByHost(at: number): void;
  reset(): void;
}

const initial = {
  phase: 'idle' as SessionPhase,
  identity: undefined,
  end: undefined,
  muted: false,
  cameraOn: false,
  sharing: false,
  videoCapacityReached: false,
  hostMutedAt: undefined,
};

export const useSessionStore = create<SessionState>((set, get) => ({
  ...initial,
  begin: (identity, options) => set({ ...initial, phase: 'connecting', identity, muted: options.muted, cameraOn: options.cameraOn }),
  connecting: (reconnecting) => {
    if (get().phase === 'ended') return;
    set({ phase: reconnecting ? 'reconnecting' : 'connecting' });
  },
  connected: () => {
    if (get().phase === 'ended') return;
    set({ phase: 'connected' });
  },
  // The first reason wins: a "removed" must not be overwritten by the "left" that follows it.
  ended: (reason, detail) => {
    if (get().phase === 'ended') return;
    set({ phase: 'ended', end: { reason, ...(detail ? { detail } : {}) }, sharing: false });
  },
  setMuted: (muted) => set({ muted }),
  setCameraOn: (cameraOn) => set({ cameraOn }),
  setSharing: (sharing) => set({ sharing }),
  setVideoCapacityReached: (videoCapacityReached) => set({ videoCapacityReached }),
  mutedByHost: (at) => set({ muted: true, hostMutedAt: at }),
  reset: () => set({ ...initial }),
}));
