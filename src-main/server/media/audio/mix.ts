/**
 * Mix-minus arithmetic on 16 kHz mono frames. Sums accumulate in 32 bits and
 * are clamped once at the end, so loud speakers saturate instead of wrapping.
 */

export const SAMPLE_RATE = 16_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

/** Adds `frame` into the 32-bit accumulator. */
export function addInto(acc: Int32Array, frame: Int16Array): void {
  const n = Math.min(acc.length, frame.length);
  for (let i = 0; i < n; i++) acc[i]! += frame[i]!;
}

/** Writes `acc - own` (own may be undefined for a listener who is not in the mix), clamped to 16 bits. */
export function mixMinus(acc: Int32Array, own: Int16Array | undefined, out: Int16Array): Int16Array {
  for (let i = 0; i < out.length; i++) {
    const v = acc[i]! - (own ? own[i]! : 0);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/**
 * The frame's level as RFC 6464 and the Chime client express it: a positive number of
 * dB below full scale (0 = full scale, 127 = digital silence), from the RMS.
 */
export function levelDbov(frame: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
  if (sum === 0) return 127;
  const rms = Math.sqrt(sum / frame.length) / 32768;
  return Math.min(127, Math.max(0, Math.round(-20 * Math.log10(rms))));
}
