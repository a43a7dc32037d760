import { parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import type { RecordedAudio } from '../audio-load.js';
import { ReceiverStats } from './rtp-stats.js';
import { readVideoTag, videoSendTimes } from './senders.js';

/** A listener's received audio kept for onset analysis (bench/audio-load.ts analyseListener). */
export class AudioRecorder implements RecordedAudio {
  readonly audioReceived: Uint8Array[] = [];
  readonly audioArrivals: number[] = [];
}

/**
 * Everything the receivers of one run saw, whichever server they are connected to:
 * per-stream RTP accounting, video send-to-receive latency from the senders' tags, and
 * recorded audio of sampled listeners.
 */
export class LoadAccounting {
  readonly stats = new ReceiverStats();
  readonly videoLatenciesMs: number[] = [];
  /** Latency samples are kept only inside the measurement window. */
  measuring = false;
  audioPackets = 0;
  videoPackets = 0;

  onRtp(receiver: string, kind: 'audio' | 'video', packet: Buffer, recorder?: AudioRecorder): void {
    const info = parseRtp(packet);
    if (!info) return;
    const now = performance.now();
    if (kind === 'audio') this.audioPackets++;
    else this.videoPackets++;
    this.stats.onPacket(`${receiver}:${info.ssrc}`, info.sequenceNumber, info.timestamp, info.payloadLength, now, kind === 'audio' ? 48_000 : 90_000);
    if (kind === 'video') {
      if (!this.measuring) return;
      const tag = readVideoTag(packet, info.payloadOffset, info.payloadLength);
      const sent = tag === undefined ? undefined : videoSendTimes.get(tag);
      if (sent !== undefined) this.videoLatenciesMs.push(now - sent);
    } else if (recorder) {
      recorder.audioReceived.push(new Uint8Array(packet.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength)));
      recorder.audioArrivals.push(now);
    }
  }
}
