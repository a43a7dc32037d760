import { RtpHeader } from '../rtp/rtp.js';
import type { VideoCodec } from './codecs.js';
import { isKeyframeStart } from './keyframes.js';

/**
 * One publisher packet on its way through the forwarding stages. There is one of
 * these per incoming stream, refilled for each packet: stages read it during the
 * call and never keep it. The buffer itself is the one node-datachannel handed
 * us, kept (not copied) by the stream's retransmission buffer.
 */
export class VideoPacket {
  buffer: Buffer = Buffer.alloc(0);
  readonly header = new RtpHeader();
  /** Arrival time (monotonic ms), or the original arrival for a retransmission. */
  arrivalMs = 0;
  /** True while this packet is being resent in answer to a subscriber's NACK. */
  retransmission = false;
  private keyframeKnown = false;
  private keyframeValue = false;

  constructor(private readonly codec: VideoCodec) {}

  /** Loads `buffer`; false when it is not RTP. */
  load(buffer: Buffer, arrivalMs: number): boolean {
    this.buffer = buffer;
    this.arrivalMs = arrivalMs;
    this.retransmission = false;
    this.keyframeKnown = false;
    return this.header.read(buffer);
  }

  /** Whether this packet starts a keyframe; computed once, on first use. */
  get keyframe(): boolean {
    if (!this.keyframeKnown) {
      this.keyframeValue = isKeyframeStart(this.codec, this.buffer, this.header.payloadOffset, this.header.payloadLength);
      this.keyframeKnown = true;
    }
    return this.keyframeValue;
  }
}

/** Where a stage hands a packet on. */
export type PacketSink = (packet: VideoPacket) => void;
