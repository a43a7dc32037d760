/**
 * A short, quiet tone for joins, leaves and raised hands, made on the spot (no
 * audio files). Off unless the person turns it on; one AudioContext, reused.
 */
export type NotifyKind = 'join' | 'leave' | 'hand' | 'lobby';

const NOTES: Record<NotifyKind, number[]> = { join: [523, 784], leave: [784, 523], hand: [880, 880], lobby: [659, 988] };

let context: AudioContext | undefined;
/** How many tones were played (the e2e test checks the setting does something). */
export let tonesPlayed = 0;

export function playNotifySound(kind: NotifyKind): void {
  try {
    context ??= new AudioContext();
    const start = context.currentTime + 0.02;
    const gain = context.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.08, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.34);
    gain.connect(context.destination);
    NOTES[kind].forEach((freq, i) => {
      const osc = context!.createOscillator();
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(start + i * 0.12);
      osc.stop(start + i * 0.12 + 0.2);
    });
    tonesPlayed++;
    (globalThis as { chorusTonesPlayed?: number }).chorusTonesPlayed = tonesPlayed;
  } catch {
    // No audio output: a notice is still shown.
  }
}
