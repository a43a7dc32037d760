import { createOpusEncoder } from '../server/media/audio/opus-codec.js';
import { levelDbov } from '../server/media/audio/mix.js';
import { silencePayload } from '../server/media/audio/opus-output.js';
import { buildRtp } from '../server/media/rtp/rtp.js';

/**
 * What a headless attendee says: `frame(n)` returns the n-th 20 ms frame of 16 kHz
 * PCM, or null for silence (then a pre-encoded Opus silence frame is sent, as a
 * muted or quiet browser would, costing the load generator no encode).
 */
export interface Microphone {
  frame(index: number): Int16Array | null;
  /** Called with the send time (performance.now) of each frame that carries sound. */
  onSent?(index: number, sentAt: number): void;
}

export const toneMicrophone = (hz: number, amplitude = 8000): Microphone => ({
  frame: (n) => Int16Array.from({ length: 320 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * (n * 320 + i)) / 16000))),
});

export interface SpeakerOutput {
  /** Sends one RTP packet; false or an exception when the track is closed. */
  send(packet: Buffer): void;
  isOpen(): boolean;
  ssrc: number;
  payloadType: number;
  /** RFC 6464 audio-level extension id, when negotiated. */
  audioLevelExtensionId?: number;
  /** The answer asked for DTX (usedtx=1): silence goes out as a browser sends it. */
  dtx: boolean;
}

/**
 * Speaks `microphone` as real Opus at 50 frames a second, catching up on frames a
 * late timer missed. With DTX, silence is one silence frame then a DTX frame every
 * 400 ms, as browsers send it. Returns a stop function.
 */
export async function startSpeaking(microphone: Microphone, out: SpeakerOutput): Promise<() => void> {
  const encoder = await createOpusEncoder();
  const started = performance.now();
  let frame = 0;
  let seq = 0;
  let silentRun = 0;
  const sendDue = (): void => {
    const due = Math.floor((performance.now() - started) / 20);
    while (frame <= due) {
      if (!out.isOpen()) return;
      const pcm = microphone.frame(frame);
      const level = pcm ? levelDbov(pcm) : 127;
      const silent = silentRun;
      silentRun = pcm ? 0 : silentRun + 1;
      const payload = pcm ? Buffer.from(encoder.encode(pcm)) : silencePayload(silent, out.dtx);
      if (payload) {
        try {
          out.send(buildRtp({
            payloadType: out.payloadType, sequenceNumber: seq & 0xffff, timestamp: (frame * 960) >>> 0, ssrc: out.ssrc, payload,
            // RFC 6464: V bit clear, level in -dBov.
            extensions: out.audioLevelExtensionId === undefined ? [] : [{ id: out.audioLevelExtensionId, data: Buffer.from([level & 0x7f]) }],
          }));
          if (pcm) microphone.onSent?.(frame, performance.now());
        } catch {
          // a closed track
        }
        seq++;
      }
      frame++;
    }
  };
  const timer = setInterval(sendDue, 20);
  return () => clearInterval(timer);
}
