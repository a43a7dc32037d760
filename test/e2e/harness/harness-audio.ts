/**
 * Audio helpers for the harness page: an oscillator as the microphone
 * (startAudioInput(MediaStream)), a spectrum analysis of the meeting audio the
 * page actually plays, and a record of the SDK's volume-indicator callbacks.
 */
import type { AudioVideoFacade } from 'amazon-chime-sdk-js';

export interface VolumeSample {
  attendeeId: string;
  volume: number | null;
  muted: boolean | null;
  at: number;
}

let context: AudioContext | undefined;
const audioContext = (): AudioContext => (context ??= new AudioContext({ sampleRate: 48000 }));

/** A MediaStream carrying a sine of `hz`, to hand to startAudioInput. */
export function oscillatorStream(hz: number): MediaStream {
  const ctx = audioContext();
  const oscillator = ctx.createOscillator();
  oscillator.frequency.value = hz;
  const gain = ctx.createGain();
  gain.gain.value = 0.3;
  const destination = ctx.createMediaStreamDestination();
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  return destination.stream;
}

export interface ReceivedAudio {
  attach(element: HTMLAudioElement): void;
  /** Power (dB) at each frequency in what the page plays, averaged over `ms`. */
  measure(frequencies: number[], ms: number): Promise<Record<string, number>>;
}

/** Analyses the meeting audio bound to the page's audio element. */
export function receivedAudio(): ReceivedAudio {
  let analyser: AnalyserNode | undefined;
  return {
    attach(element) {
      const stream = element.srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) return;
      const ctx = audioContext();
      analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(stream).connect(analyser);
    },
    async measure(frequencies, ms) {
      const ctx = audioContext();
      await ctx.resume();
      const sums = frequencies.map(() => 0);
      let samples = 0;
      const deadline = performance.now() + ms;
      const bins = new Float32Array(analyser?.frequencyBinCount ?? 0);
      while (performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        if (!analyser) continue;
        analyser.getFloatFrequencyData(bins);
        const binHz = ctx.sampleRate / analyser.fftSize;
        frequencies.forEach((hz, i) => {
          const centre = Math.round(hz / binHz);
          let peak = -Infinity;
          for (let b = centre - 2; b <= centre + 2; b++) peak = Math.max(peak, bins[b] ?? -Infinity);
          // Average power, not dB, so a silent read does not dominate.
          sums[i] = sums[i]! + 10 ** (Math.max(peak, -160) / 10);
        });
        samples++;
      }
      return Object.fromEntries(frequencies.map((hz, i) => [String(hz), samples ? 10 * Math.log10(sums[i]! / samples) : -160]));
    },
  };
}

/** Subscribes to the SDK's volume indicator for every attendee that appears. */
export function recordVolumes(av: AudioVideoFacade, samples: VolumeSample[]): void {
  const subscribed = new Set<string>();
  av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present) => {
    if (!present || subscribed.has(attendeeId)) return;
    subscribed.add(attendeeId);
    av.realtimeSubscribeToVolumeIndicator(attendeeId, (id, volume, muted) => {
      samples.push({ attendeeId: id, volume, muted, at: performance.now() });
      if (samples.length > 5000) samples.splice(0, 2500);
    });
  });
}
