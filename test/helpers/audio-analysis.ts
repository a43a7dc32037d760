/** Goertzel: the power of one frequency in a 16 kHz signal (unnormalised; compare between frequencies). */
export function tonePower(pcm: Int16Array, hz: number, sampleRate = 16000): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** The share of a signal's power at one frequency (about 1 for a pure tone, about 0 when absent). */
export function toneShare(pcm: Int16Array, hz: number): number {
  let total = 0;
  for (const x of pcm) total += x * x;
  return total === 0 ? 0 : tonePower(pcm, hz) / ((total * pcm.length) / 2);
}

/** 20 ms frames of a continuous sine at `hz`, 16 kHz mono. */
export function toneFrames(hz: number, frames: number, amplitude = 8000, startFrame = 0): Int16Array[] {
  return Array.from({ length: frames }, (_, f) =>
    Int16Array.from({ length: 320 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * ((startFrame + f) * 320 + i)) / 16000))));
}

export function concatPcm(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}

export const dB = (ratio: number): number => 10 * Math.log10(ratio);
