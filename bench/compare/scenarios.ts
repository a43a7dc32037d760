/** The comparison's meetings. Pure data. */

export type Scenario =
  | { kind: 'audio'; id: string; attendees: number; speakers: number }
  | { kind: 'video'; id: string; publishers: number; subscribers: number }
  /** Publishers also receive each other's video; every attendee is in the audio mix. */
  | { kind: 'mixed'; id: string; publishers: number; audioOnly: number; speakers: number };

const audio = (attendees: number): Scenario => ({ kind: 'audio', id: `audio-${attendees}`, attendees, speakers: 4 });
const video = (n: number): Scenario => ({ kind: 'video', id: `video-${n}x${n}`, publishers: n, subscribers: n });

export const FULL_SCENARIOS: Scenario[] = [
  audio(10), audio(50), audio(100), audio(250),
  video(4), video(8), video(16),
  { kind: 'mixed', id: 'mixed-16v-50a', publishers: 16, audioOnly: 50, speakers: 4 },
];

export const QUICK_SCENARIOS: Scenario[] = [audio(10), audio(50), video(4)];

/** Everyone connected to the server in a scenario. */
export function attendeesOf(s: Scenario): number {
  switch (s.kind) {
    case 'audio': return s.attendees;
    case 'video': return s.publishers + s.subscribers;
    case 'mixed': return s.publishers + s.audioOnly;
    default: {
      const never: never = s;
      throw new Error(`unknown scenario ${JSON.stringify(never)}`);
    }
  }
}

/** Video packets each sent packet should turn into at the receivers. */
export function videoFanout(s: Scenario): number {
  switch (s.kind) {
    case 'audio': return 0;
    case 'video': return s.subscribers;
    case 'mixed': return s.publishers - 1;
    default: {
      const never: never = s;
      throw new Error(`unknown scenario ${JSON.stringify(never)}`);
    }
  }
}

/** Attendees who receive the mixed audio stream (every attendee on the audio bridge). */
export function audioReceivers(s: Scenario, server: 'chorus' | 'janus'): number {
  switch (s.kind) {
    case 'audio': return s.attendees;
    // Chorus sends every attendee its mix, even in a video-only meeting; Janus's VideoRoom has no mixer.
    case 'video': return server === 'chorus' ? s.publishers + s.subscribers : 0;
    case 'mixed': return s.publishers + s.audioOnly;
    default: {
      const never: never = s;
      throw new Error(`unknown scenario ${JSON.stringify(never)}`);
    }
  }
}
