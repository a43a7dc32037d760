import { buildRtp } from '../server/media/rtp/rtp.js';

export type SyntheticCodec = 'VP8' | 'H264';

/**
 * Send time (performance.now) of each tagged video packet, shared by every client
 * of the process, so a receiver can measure latency through the SFU. Bounded.
 */
export const SENT_AT = new Map<number, number>();
const SENT_AT_LIMIT = 50_000;

/** The latency tag a receiver reads back from a synthetic packet's payload. */
export function readLatencyTag(packet: Buffer, payloadOffset: number): number | undefined {
  return packet.length >= payloadOffset + 6 ? packet.readUInt32BE(payloadOffset + 2) : undefined;
}

export interface SyntheticVideoOptions {
  ssrc: number;
  codec: () => { codec: SyntheticCodec; payloadType: number };
  packetsPerSecond: number;
  packetBytes: number;
  /** Offer-negotiated id of urn:3gpp:video-orientation; packets then carry rotation 90° and one un-negotiated extension. */
  videoOrientationId?: number;
  send(packet: Buffer): void;
  isOpen(): boolean;
  /**
   * Tests of loss repair: this fraction of packets is not sent at first (as if lost on the
   * way), chosen by a seeded generator. NACKed packets are resent from history either way.
   */
  sendLoss?: { rate: number; seed: number };
}

/** Packets kept to answer NACKs, as a browser's sender keeps them. */
const HISTORY = 512;

/**
 * Synthetic video: fixed-size packets, each one a whole frame with a valid VP8
 * payload descriptor or H.264 NAL header, a keyframe when one is due (first
 * packet, or after PLI/FIR), and a send-time tag in the payload.
 */
export class SyntheticVideo {
  /** Sequence numbers held back by sendLoss, and those asked for again by NACK. */
  readonly withheld: number[] = [];
  readonly nacked = new Set<number>();
  resent = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly history: (Buffer | undefined)[] = new Array(HISTORY);
  private seq = 0;
  private ts = 0;
  private keyframeDue = true;
  private random: () => number;

  constructor(private readonly options: SyntheticVideoOptions) {
    let seed = options.sendLoss?.seed ?? 1;
    this.random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff);
    this.timer = setInterval(() => this.sendOne(), 1000 / options.packetsPerSecond);
  }

  /** Answers a NACK: resends each listed packet still in history (same SSRC and number, as without RTX). */
  resend(sequenceNumbers: readonly number[]): void {
    for (const seq of sequenceNumbers) {
      this.nacked.add(seq);
      const packet = this.history[seq % HISTORY];
      if (!packet || packet.readUInt16BE(2) !== seq || !this.options.isOpen()) continue;
      try {
        this.options.send(packet);
        this.resent++;
      } catch {
        // a closed track
      }
    }
  }

  requestKeyframe(): void {
    this.keyframeDue = true;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sendOne(): void {
    const { ssrc, packetBytes, videoOrientationId } = this.options;
    if (!this.options.isOpen()) return;
    const { codec, payloadType } = this.options.codec();
    const key = this.keyframeDue;
    this.keyframeDue = false;
    const payload = Buffer.alloc(packetBytes);
    if (codec === 'H264') {
      // A single NAL unit: IDR slice (5) for keyframes, non-IDR slice (1) otherwise.
      payload[0] = key ? 0x65 : 0x41;
    } else {
      // VP8 payload descriptor: S=1, partition 0; frame tag P bit 0 marks a keyframe.
      payload[0] = 0x10;
      payload[1] = key ? 0x00 : 0x01;
    }
    const seq = this.seq++ & 0xffff;
    const tag = (ssrc ^ Math.imul(this.seq, 7919)) >>> 0;
    payload.writeUInt32BE(tag, 2);
    SENT_AT.set(tag, performance.now());
    if (SENT_AT.size > SENT_AT_LIMIT) SENT_AT.delete(SENT_AT.keys().next().value!);
    this.ts = (this.ts + 900) >>> 0;
    const packet = buildRtp({
      payloadType, sequenceNumber: seq, timestamp: this.ts, ssrc, marker: true, payload,
      // Rotation 90° (CVO byte 0x01), plus an id nobody negotiated, which the SFU must drop.
      extensions: videoOrientationId === undefined ? [] : [{ id: videoOrientationId, data: Buffer.from([0x01]) }, { id: 14, data: Buffer.from([0xaa, 0xbb]) }],
    });
    this.history[seq % HISTORY] = packet;
    // Keyframes always go out, so loss tests measure repair rather than startup.
    if (this.options.sendLoss && !key && this.random() < this.options.sendLoss.rate) {
      this.withheld.push(seq);
      return;
    }
    try {
      this.options.send(packet);
    } catch {
      // a closed track
    }
  }
}
