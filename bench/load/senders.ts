import { silencePayload } from '../../src-main/server/media/audio/opus-output.js';
import { buildRtp } from '../../src-main/server/media/rtp/rtp.js';
import { CLIP_FPS, packetizeVp8, type Vp8Clip } from './vp8-clip.js';

/**
 * Paced RTP senders shared by the Chorus and the Janus clients, so both servers get the
 * same packets at the same times. A sender owns sequence numbers and timestamps; the
 * client only supplies where packets go.
 */

export interface RtpSink {
  send(packet: Buffer): void;
  ssrc: number;
  payloadType: number;
  /** RFC 6464 audio-level extension id, when negotiated. */
  audioLevelExtensionId?: number;
  /** The server's answer asked for DTX (usedtx=1): send silence as a browser then does. */
  dtx?: boolean;
}
export interface MediaSender { stop(): void; requestKeyframe(): void }
export type MediaSenderFactory = (sink: RtpSink) => MediaSender;

/**
 * Send times of tagged video packets (performance.now), shared by every sender and receiver
 * in this process. The tag overwrites a packet's last 4 bytes: the servers forward VP8
 * without decoding it, and nobody here decodes it either (a sender for a browser that does
 * is made with `latencyTags: false`: the tags corrupt the frames, fatally for some encodes).
 */
export const videoSendTimes = new Map<number, number>();
/** Packets sent by every sender in this process, by kind. */
export const sentPackets = { audio: 0, video: 0 };
/** While set, every vp8Sender skips its frames: the benchmark's window that measures a meeting's cost without video. */
export const videoSending = { paused: false };
let nextTag = 1;
const TAG_BYTES = 4;
const MIN_TAGGED_PAYLOAD = 16;

/** The tag a receiver reads back from a forwarded packet's payload end, or undefined. */
export function readVideoTag(packet: Buffer, payloadOffset: number, payloadLength: number): number | undefined {
  if (payloadLength < MIN_TAGGED_PAYLOAD) return undefined;
  return packet.readUInt32BE(payloadOffset + payloadLength - TAG_BYTES);
}

/**
 * Plays `clip` in a loop from `startFrame` at its frame rate, every frame's packets in one
 * burst as an encoder would emit them. A keyframe request jumps to the clip's next keyframe
 * (at most twice a second), as a real encoder answers PLI with a fresh keyframe. With
 * `latencyTags` (the default) each packet carries a send-time tag in its last bytes.
 */
export function vp8Sender(clip: Vp8Clip, startFrame = 0, options: { latencyTags?: boolean } = {}): MediaSenderFactory {
  const tagging = options.latencyTags ?? true;
  return (sink) => {
    let frame = startFrame % clip.frames.length;
    let seq = Math.floor(Math.random() * 0xffff);
    let timestamp = Math.floor(Math.random() * 0xffffffff);
    let pictureId = Math.floor(Math.random() * 0x7fff);
    let keyframeRequested = false;
    let lastForced = -Infinity;
    const started = performance.now();
    let sentFrames = 0;
    const sendFrame = (): void => {
      if (videoSending.paused) return;
      if (keyframeRequested && performance.now() - lastForced > 500) {
        keyframeRequested = false;
        lastForced = performance.now();
        while (!clip.frames[frame]!.keyframe) frame = (frame + 1) % clip.frames.length;
      }
      const packets = packetizeVp8(clip.frames[frame]!.data, pictureId);
      packets.forEach((payload, i) => {
        if (tagging && payload.length >= MIN_TAGGED_PAYLOAD) {
          const tag = nextTag++ >>> 0;
          payload.writeUInt32BE(tag, payload.length - TAG_BYTES);
          videoSendTimes.set(tag, performance.now());
          if (videoSendTimes.size > 200_000) videoSendTimes.delete(videoSendTimes.keys().next().value!);
        }
        try {
          sink.send(buildRtp({ payloadType: sink.payloadType, sequenceNumber: seq, timestamp, ssrc: sink.ssrc, marker: i === packets.length - 1, payload }));
          sentPackets.video++;
        } catch {
          // a track that is closing
        }
        seq = (seq + 1) & 0xffff;
      });
      frame = (frame + 1) % clip.frames.length;
      pictureId = (pictureId + 1) & 0x7fff;
      timestamp = (timestamp + 90_000 / CLIP_FPS) >>> 0;
    };
    // Catch up on frames a late timer missed, so the bitrate holds under CPU contention.
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) * CLIP_FPS) / 1000);
      while (sentFrames <= due) {
        sendFrame();
        sentFrames++;
      }
    }, 1000 / CLIP_FPS / 2);
    return { stop: () => clearInterval(timer), requestKeyframe: () => { keyframeRequested = true; } };
  };
}

/** One 20 ms Opus frame with its RFC 6464 level (-dBov), or null for a silent frame. */
export type OpusFrame = { opus: Buffer; level: number } | null;

/**
 * Sends pre-encoded Opus in a loop at 50 frames a second, silence frames where `frames`
 * has null. `onSent` hears the send time of every frame that carries sound.
 */
export function opusSender(frames: readonly OpusFrame[], onSent?: (index: number, sentAt: number) => void): MediaSenderFactory {
  return (sink) => {
    const started = performance.now();
    let n = 0;
    const timestampBase = Math.floor(Math.random() * 0xffffffff);
    const seqBase = Math.floor(Math.random() * 0xffff);
    let seq = seqBase;
    let silentRun = 0;
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - started) / 20);
      while (n <= due) {
        const frame = frames[n % frames.length] ?? null;
        const levelId = sink.audioLevelExtensionId;
        const payload = frame ? frame.opus : silencePayload(silentRun, sink.dtx ?? false);
        silentRun = frame ? 0 : silentRun + 1;
        if (payload) {
          try {
            sink.send(buildRtp({
              payloadType: sink.payloadType, sequenceNumber: seq, timestamp: (timestampBase + n * 960) >>> 0, ssrc: sink.ssrc, payload,
              extensions: levelId === undefined ? [] : [{ id: levelId, data: Buffer.from([(frame?.level ?? 127) & 0x7f]) }],
            }));
            sentPackets.audio++;
            if (frame) onSent?.(n, performance.now());
          } catch {
            // a track that is closing
          }
          seq = (seq + 1) & 0xffff;
        }
        n++;
      }
    }, 20);
    return { stop: () => clearInterval(timer), requestKeyframe: () => undefined };
  };
}
