import { RtpHeader } from '../rtp/rtp.js';
import type { VideoCodec } from './codecs.js';
import { isKeyframeStart } from './keyframes.js';
import { Vp9Descriptor } from './vp9-descriptor.js';

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
  /** VP9 only: the payload descriptor, read once per packet on first use (layers, switching points). */
  private readonly vp9Descriptor: Vp9Descriptor | undefined;
  private vp9Known = false;

  constructor(private readonly codec: VideoCodec) {
    this.vp9Descriptor = codec === 'VP9' ? new Vp9Descriptor() : undefined;
  }

  /** Loads `buffer`; false when it is not RTP. */
  load(buffer: Buffer, arrivalMs: number): boolean {
    this.buffer = buffer;
    this.arrivalMs = arrivalMs;
    this.retransmission = false;
    this.keyframeKnown = false;
    this.vp9Known = false;
    return this.header.read(buffer);
  }

  /** The VP9 payload descriptor of this packet; undefined for other codecs. */
  get vp9(): Vp9Descriptor | undefined {
    const d = this.vp9Descriptor;
    if (d && !this.vp9Known) {
      d.read(this.buffer, this.header.payloadOffset, this.header.payloadLength);
      this.vp9Known = true;
    }
    return d;
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
