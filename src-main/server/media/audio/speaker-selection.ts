/**
 * Chooses whose voice goes into the mix: the loudest few, with hysteresis so
 * the set does not flap between two similar voices. Levels are dBov as in
 * RFC 6464 (lower is louder; 127 is silence).
 */

export interface SpeakerSelectionOptions {
  /** At most this many voices are mixed. */
  maxSpeakers?: number;
  /** Quieter than this (dBov) is not speech. */
  silenceDbov?: number;
  /** A newcomer displaces a current speaker only when louder by this margin (dB). */
  switchMarginDb?: number;
  /** A speaker stays selected this long after going quiet (ms). */
  holdMs?: number;
}

interface Candidate {
  level: number;
  lastLoud: number;
}

export class SpeakerSelector {
  private readonly candidates = new Map<string, Candidate>();
  private readonly selected = new Set<string>();
  private readonly maxSpeakers: number;
  private readonly silenceDbov: number;
  private readonly switchMarginDb: number;
  private readonly holdMs: number;

  constructor(options: SpeakerSelectionOptions = {}) {
    this.maxSpeakers = options.maxSpeakers ?? 4;
    this.silenceDbov = options.silenceDbov ?? 50;
    this.switchMarginDb = options.switchMarginDb ?? 6;
    this.holdMs = options.holdMs ?? 600;
  }

  /** Records an attendee's current level (from the audio-level extension or decoded energy). */
  report(id: string, levelDbov: number, now: number): void {
    const entry = this.candidates.get(id) ?? { level: 127, lastLoud: -Infinity };
    entry.level = levelDbov;
    if (levelDbov <= this.silenceDbov) entry.lastLoud = now;
    this.candidates.set(id, entry);
  }

  remove(id: string): void {
    this.candidates.delete(id);
    this.selected.delete(id);
  }

  /** Recomputes and returns the selected set. */
  select(now: number): ReadonlySet<string> {
    for (const id of [...this.selected]) {
      const c = this.candidates.get(id);
      if (!c || now - c.lastLoud > this.holdMs) this.selected.delete(id);
    }
    const loud = [...this.candidates.entries()]
      .filter(([id, c]) => !this.selected.has(id) && c.level <= this.silenceDbov)
      .sort((a, b) => a[1].level - b[1].level);
    for (const [id, c] of loud) {
      if (this.selected.size < this.maxSpeakers) {
        this.selected.add(id);
        continue;
      }
      // Full: replace the quietest current speaker only if clearly louder.
      let quietest: [string, number] | undefined;
      for (const s of this.selected) {
        const level = this.candidates.get(s)?.level ?? 127;
        if (!quietest || level > quietest[1]) quietest = [s, level];
      }
      if (quietest && c.level + this.switchMarginDb <= quietest[1]) {
        this.selected.delete(quietest[0]);
        this.selected.add(id);
      }
    }
    return this.selected;
  }
}
