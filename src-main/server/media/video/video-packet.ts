import { RtpHeader } from '../rtp/rtp.js';
import type { VideoCodec } from './codecs.js';
import { Av1Descriptor } from './av1-descriptor.js';
import { isKeyframeStart } from './keyframes.js';
import type { LayerDescriptor } from './layer-descriptor.js';
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
  /** The codecs with layers (VP9, AV1): the packet's layer descriptor, read once per packet (layers, switching points). */
  private readonly vp9Descriptor: Vp9Descriptor | undefined;
  private readonly av1Descriptor: Av1Descriptor | undefined;
  private svcKnown = false;

  /**
   * `codec`'s packets. An AV1 packet's layer depends on the packets before it (see Av1Descriptor):
   * with `tracksLayers` false (a packet loaded again for a resend, out of order) AV1 has no
   * descriptor, so a resend cannot disturb what the stream's own packets taught it.
   */
  constructor(
    private readonly codec: VideoCodec,
    tracksLayers = true,
  ) {
    this.vp9Descriptor = codec === 'VP9' ? new Vp9Descriptor() : undefined;
    this.av1Descriptor = codec === 'AV1' && tracksLayers ? new Av1Descriptor() : undefined;
  }

  /** Whether this codec can carry layers: a subscriber's marker bits then are its own (see the layer gate). */
  get layerCodec(): boolean {
    return this.codec === 'VP9' || this.codec === 'AV1';
  }

  /** Loads `buffer`; false when it is not RTP. */
  load(buffer: Buffer, arrivalMs: number): boolean {
    this.buffer = buffer;
    this.arrivalMs = arrivalMs;
    this.retransmission = false;
    this.keyframeKnown = false;
    this.svcKnown = false;
    return this.header.read(buffer);
  }

  /**
   * This packet's layers (VP9; AV1 on a stream's own packets), read once per packet on first use;
   * undefined for other codecs. The incoming stream reads it for every packet it accepts, in
   * arrival order, which is what the AV1 reader's state follows.
   */
  get svc(): LayerDescriptor | undefined {
    if (this.svcKnown) return this.vp9Descriptor ?? this.av1Descriptor;
    this.svcKnown = true;
    const { header } = this;
    if (this.vp9Descriptor) {
      this.vp9Descriptor.read(this.buffer, header.payloadOffset, header.payloadLength);
      return this.vp9Descriptor;
    }
    this.av1Descriptor?.read(this.buffer, header.payloadOffset, header.payloadLength, header.timestamp, header.marker);
    return this.av1Descriptor;
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
