import type { HeaderExtension } from '../peer/sdp.js';
import { BitrateMeter } from '../bwe/bitrate-meter.js';
import { buildNack, buildPli, buildRemb } from '../rtp/rtcp.js';
import type { VideoCodec } from './codecs.js';
import { KeyframeRequester, type KeyframeSettings } from './keyframe-requester.js';
import { NackGenerator, type NackSettings } from './nack-generator.js';
import { RetransmissionBuffer } from './retransmission-buffer.js';
import { StreamLayers } from './stream-layers.js';
import { VideoPacket } from './video-packet.js';
import type { VideoSubscription } from './video-subscription.js';

/** What a publisher negotiated for its camera or content m-section. */
export interface PublicationSpec {
  mid: string;
  codec: VideoCodec;
  payloadType: number;
  /** The publisher's primary SSRC (RTX and FEC on other SSRCs are not forwarded). */
  ssrc: number;
  /** Upper bound on the publisher's send rate, enforced with REMB. */
  maxBitrateBps: number;
  /** Header extensions negotiated with the publisher, by the publisher's ids. */
  extensions: HeaderExtension[];
}

export interface IncomingStreamSettings {
  keyframes: KeyframeSettings;
  nack: NackSettings;
  retransmitSlots: number;
  retransmitWindowMs: number;
  bitrateCapIntervalMs: number;
  /** The stream's measured rate: bytes over this window, in buckets of this size. */
  meter: { windowMs: number; bucketMs: number };
}

export interface IncomingStreamCounters {
  packetsIn: number;
  /** Not forwarded: RTX, FEC, padding, other SSRCs, or not RTP at all. */
  packetsDropped: number;
}

/** Server SSRC used as the sender of RTCP feedback toward publishers. */
export const FEEDBACK_SSRC = 0x43484f52;

/**
 * One publisher's video as the server receives it: the single owner of its
 * packets. Each packet is parsed once, kept once in the retransmission buffer
 * shared by all subscribers, checked for loss (NACKs back to the publisher) and
 * handed to every subscription's chain. Keyframe requests from subscribers are
 * merged here, and the publisher's bitrate is capped with REMB.
 */
export class IncomingVideoStream {
  readonly subscriptions = new Set<VideoSubscription>();
  readonly counters: IncomingStreamCounters = { packetsIn: 0, packetsDropped: 0 };
  readonly nacks: NackGenerator;
  readonly keyframes: KeyframeRequester;
  /** What the publisher sends that is forwarded (media packets, headers included). */
  readonly meter: BitrateMeter;
  /** SVC (VP9 with layer indices, AV1 with OBU extensions): the layers this stream carries and their rates. */
  readonly layers: StreamLayers;
  private readonly packet: VideoPacket;
  private readonly resent: VideoPacket;
  private readonly history: RetransmissionBuffer;
  private lastCapMs = -Infinity;

  constructor(
    readonly publisherId: string,
    readonly spec: PublicationSpec,
    private readonly settings: IncomingStreamSettings,
    /** Sends RTCP to the publisher on its m-section. */
    private readonly feedback: (rtcp: Buffer) => void,
    /** The stream's layer structure changed (subscribers are told through INDEX). */
    private readonly layersChanged: () => void = () => undefined,
  ) {
    this.packet = new VideoPacket(spec.codec);
    this.resent = new VideoPacket(spec.codec, false);
    this.history = new RetransmissionBuffer(settings.retransmitSlots, settings.retransmitWindowMs);
    this.nacks = new NackGenerator(settings.nack);
    this.meter = new BitrateMeter(settings.meter.windowMs, settings.meter.bucketMs);
    this.layers = new StreamLayers(settings.meter.windowMs, settings.meter.bucketMs);
    this.keyframes = new KeyframeRequester(settings.keyframes, () => this.feedback(buildPli(FEEDBACK_SSRC, this.spec.ssrc)));
  }

  /** Hot path: one RTP packet from the publisher's m-section. */
  onRtp(buffer: Buffer, nowMs: number): void {
    this.counters.packetsIn++;
    const packet = this.packet;
    const header = packet.header;
    // RTX, FEC, RED and padding-only packets are not forwarded: subscribers get plain media and NACK us instead.
    if (!packet.load(buffer, nowMs) || header.payloadType !== this.spec.payloadType || header.ssrc !== this.spec.ssrc || header.payloadLength === 0) {
      this.counters.packetsDropped++;
      return;
    }
    this.meter.add(buffer.length, nowMs);
    // Read for every packet accepted, in arrival order (the AV1 reader follows the stream).
    const svc = packet.svc;
    if (svc && this.layers.observe(svc, buffer.length, nowMs)) this.layersChanged();
    if (!this.nacks.onPacket(header.sequenceNumber, nowMs)) this.keyframes.request(nowMs);
    this.history.store(header.sequenceNumber, buffer, nowMs);
    if (this.keyframes.waiting && packet.keyframe) this.keyframes.keyframeArrived();
    for (const subscription of this.subscriptions) subscription.input(packet);
  }

  /** The held packet with incoming sequence number `inSeq`, loaded for a resend (undefined when gone). */
  loadForResend(inSeq: number, nowMs: number): VideoPacket | undefined {
    const buffer = this.history.get(inSeq, nowMs);
    if (!buffer || !this.resent.load(buffer, this.history.arrivalOf(inSeq))) return undefined;
    this.resent.retransmission = true;
    return this.resent;
  }

  requestKeyframe(nowMs: number): void {
    this.keyframes.request(nowMs);
  }

  /** Periodic work: NACKs due, keyframe requests held back or unanswered, the bitrate cap. */
  tick(nowMs: number): void {
    const gaveUp = this.nacks.tick(nowMs, (sequenceNumbers) => this.feedback(buildNack(FEEDBACK_SSRC, this.spec.ssrc, [...sequenceNumbers])));
    if (gaveUp) this.keyframes.request(nowMs);
    this.keyframes.tick(nowMs);
    if (nowMs - this.lastCapMs >= this.settings.bitrateCapIntervalMs) {
      this.lastCapMs = nowMs;
      this.feedback(buildRemb(FEEDBACK_SSRC, this.spec.maxBitrateBps, [this.spec.ssrc]));
    }
  }

  close(): void {
    this.subscriptions.clear();
    this.history.clear();
  }
}
