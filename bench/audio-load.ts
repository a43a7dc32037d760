import { createOpusDecoder, createOpusEncoder } from '../src-main/server/media/audio/opus-codec.js';
import { levelDbov } from '../src-main/server/media/audio/mix.js';
import type { Microphone } from '../src-main/client/headless-client.js';
import type { OpusFrame } from './load/senders.js';

/**
 * Speech-like load for audio benchmarks. Each speaker talks in bursts (talk
 * spurts of a voiced, three-harmonic tone with a syllable-rate envelope) at
 * its own phase: speakers take turns with short gaps, so a listener can tell
 * which spurt an onset in the mix belongs to.
 */

export const SPURT_PERIOD_FRAMES = 100; // 2 s
/** Talk at most 600 ms per period, and leave a gap between consecutive speakers' spurts. */
export const spurtFrames = (speakers: number): number => Math.min(30, Math.floor(SPURT_PERIOD_FRAMES / Math.max(1, speakers) / 2));

export interface Onset {
  speaker: number;
  sentAt: number;
}

export function speakerMicrophone(speaker: number, speakers: number, onsets: Onset[]): Microphone {
  const f0 = 140 + 35 * speaker;
  // Spread the speakers' spurts over the period; they overlap when there are many speakers.
  const offset = Math.floor((speaker * SPURT_PERIOD_FRAMES) / Math.max(1, speakers));
  return {
    frame(n) {
      const phase = (n - offset + SPURT_PERIOD_FRAMES * 1000) % SPURT_PERIOD_FRAMES;
      if (phase >= spurtFrames(speakers)) return null;
      const pcm = new Int16Array(320);
      for (let i = 0; i < 320; i++) {
        const t = (n * 320 + i) / 16000;
        const syllable = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
        const voiced = Math.sin(2 * Math.PI * f0 * t) + 0.5 * Math.sin(2 * Math.PI * 2 * f0 * t) + 0.25 * Math.sin(2 * Math.PI * 3 * f0 * t);
        pcm[i] = Math.round(5000 * syllable * voiced);
      }
      return pcm;
    },
    onSent(n, sentAt) {
      const phase = (n - offset + SPURT_PERIOD_FRAMES * 1000) % SPURT_PERIOD_FRAMES;
      if (phase === 0) onsets.push({ speaker, sentAt });
    },
  };
}

export const silentMicrophone: Microphone = { frame: () => null };

/**
 * A speaker's microphone encoded once: its PCM repeats every SPURT_PERIOD_FRAMES (the
 * syllable envelope and every harmonic complete whole cycles in 2 s), so looping these
 * frames is the same signal, and both servers in a comparison get identical packets.
 */
export async function preEncodedSpeaker(speaker: number, speakers: number, onsets: Onset[]): Promise<{ frames: OpusFrame[]; onSent: (index: number, sentAt: number) => void }> {
  const microphone = speakerMicrophone(speaker, speakers, onsets);
  const encoder = await createOpusEncoder();
  try {
    const frames = Array.from({ length: SPURT_PERIOD_FRAMES }, (_, n): OpusFrame => {
      const pcm = microphone.frame(n);
      return pcm ? { opus: Buffer.from(encoder.encode(pcm)), level: levelDbov(pcm) } : null;
    });
    return { frames, onSent: (n, sentAt) => microphone.onSent?.(n, sentAt) };
  } finally {
    encoder.close();
  }
}

/** What a listener recorded: Opus payloads of the audio it received and their arrival times. */
export interface RecordedAudio {
  readonly audioReceived: readonly Uint8Array[];
  readonly audioArrivals: readonly number[];
}

/**
 * Mouth-to-ear latency through the server: decodes what a listener received,
 * finds where sound starts after a quiet gap, and matches each such onset to
 * the latest spurt a speaker began before it.
 */
export interface ListenerAnalysis {
  /** Spurt start to first audible frame, ms. */
  latencies: number[];
  /** Sound that restarted in the middle of a spurt: an audible gap (underrun, dropped packets). */
  dropouts: number;
}

/** An onset more than this long after a spurt began is a gap within it, not its start. */
const ONSET_WINDOW_MS = 250;
/** Sound after at least this long without any is an onset (or, mid-spurt, an audible gap). */
const QUIET_GAP_MS = 100;

export async function analyseListener(listener: RecordedAudio, onsets: Onset[], since: number): Promise<ListenerAnalysis> {
  const decoder = await createOpusDecoder();
  const latencies: number[] = [];
  let dropouts = 0;
  // Quiet is judged by time, not by packet count: a server sending DTX during silence sends a packet only every 400 ms.
  let quietSeen = false;
  let lastLoudArrival = -Infinity;
  try {
    for (let i = 0; i < listener.audioReceived.length; i++) {
      const result = decoder.decode(listener.audioReceived[i]!);
      const level = result.ok ? levelDbov(result.pcm) : 127;
      const arrival = listener.audioArrivals[i]!;
      if (level < 45) {
        if (quietSeen && arrival - lastLoudArrival >= QUIET_GAP_MS && arrival >= since) {
          const onset = onsets.filter((o) => o.sentAt <= arrival).at(-1);
          if (onset && arrival - onset.sentAt <= ONSET_WINDOW_MS) latencies.push(arrival - onset.sentAt);
          else dropouts++;
        }
        quietSeen = false;
        lastLoudArrival = arrival;
      } else {
        quietSeen = true;
      }
    }
  } finally {
    decoder.close();
  }
  return { latencies, dropouts };
}
