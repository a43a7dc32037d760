import { ABS_SEND_TIME_URI, type HeaderExtension } from '../peer/sdp.js';
import type { NtpTime } from '../rtp/ntp.js';
import { SENDER_REPORT_BYTES, writeSenderReport } from '../rtp/rtcp.js';
import { absSendTimeOf, MAX_RTP_PADDING, rewrittenRtpBound, writePaddingRtp, writeRewrittenRtp, type RtpRewrite } from '../rtp/rtp.js';
import { SequenceRewriter } from './sequence-rewriter.js';
import { LayerVerdict, SvcLayerSelector } from './svc-layer-selector.js';
import type { PacketSink, VideoPacket } from './video-packet.js';

/** What a subscriber negotiated on one of its receive m-sections. */
export interface SubscriptionSpec {
  mid: string;
  /** The participant whose video this m-section carries. */
  publisherId: string;
  payloadType: number;
  /** Our SSRC toward this subscriber on this mid (stable across renegotiations). */
  ssrc: number;
  /** Header extensions negotiated with the subscriber, by the subscriber's ids. */
  extensions: HeaderExtension[];
}

/** What a subscription needs from the rest of the router. */
export interface SubscriptionPorts {
  /** Sends a finished packet to the subscriber; false when it could not go out. */
  send(packet: Buffer): boolean;
  /** Asks the current source for a keyframe (merged per source by its KeyframeRequester). */
  requestKeyframe(): void;
  /** Shared output buffer: node-datachannel copies what it sends, so one serves every subscriber. */
  scratch: Buffer;
  /** Views of `scratch` by length, made once each: sending a slice must not allocate either. */
  view(length: number): Buffer;
  /** Monotonic ms: abs-send-time is stamped from it as each packet leaves. */
  now(): number;
  /** Whether a retransmission of `bytes` may go to this subscriber now (its resend budget). */
  mayResend(bytes: number): boolean;
}

export interface SubscriptionCounters {
  forwarded: number;
  dropped: number;
  retransmitted: number;
  /** NACKed packets not resent: over the subscriber's resend budget. */
  resendsRefused: number;
}

/**
 * One subscriber's receive m-section, fed by one publisher's incoming stream.
 * The forwarding path is a chain of small stages over a writer:
 * pause gate → keyframe gate → layer gate (SVC) → sequence/timestamp rewriter → writer.
 */
export class VideoSubscription {
  paused = false;
  /** Paused by the server's allocator: the subscriber's downlink cannot carry it now. */
  serverPaused = false;
  /** Set until a keyframe starts (or restarts) this subscriber on its source: until one is actually sent. */
  waitingKeyframe = true;
  /** The subscriber's track is open (DTLS up, m-section negotiated): packets can reach it. */
  open = false;
  readonly rewriter = new SequenceRewriter();
  /** For an SVC source: the spatial and temporal layers this subscriber takes. */
  readonly layers = new SvcLayerSelector();
  readonly counters: SubscriptionCounters = { forwarded: 0, dropped: 0, retransmitted: 0, resendsRefused: 0 };
  /** Entry point of the forwarding chain. */
  readonly input: PacketSink;
  private readonly fields: RtpRewrite;
  /** abs-send-time written on every packet when the subscriber negotiated it, so its REMB measures this hop. */
  private readonly absSendTime = { id: 0, value: 0 };
  /** The header of padding packets, reused. */
  private readonly paddingOut: Pick<RtpRewrite, 'ssrc' | 'payloadType' | 'sequenceNumber' | 'timestamp' | 'absSendTime'> = { ssrc: 0, payloadType: 0, sequenceNumber: 0, timestamp: 0, absSendTime: undefined };
  /** Marker bits as sent, by outgoing sequence number (mod size): a resend repeats what the subscriber was sent. */
  private readonly sentMarkers = new Uint8Array(1024);
  /** What a sender report says: packets and payload octets sent on this SSRC, the last RTP timestamp and when it left. */
  private readonly sent = { packets: 0, octets: 0, timestamp: 0, atMs: -1 };
  /** The sender report, rewritten in place each time. */
  private readonly report = Buffer.alloc(SENDER_REPORT_BYTES);

  constructor(
    readonly subscriberId: string,
    public spec: SubscriptionSpec,
    private readonly ports: SubscriptionPorts,
  ) {
    this.fields = { ssrc: spec.ssrc, payloadType: spec.payloadType, sequenceNumber: 0, timestamp: 0, extensionIds: undefined, absSendTime: undefined, marker: undefined };
    this.useExtensions(spec.extensions);
    this.input = this.pauseGate(this.keyframeGate(this.layerGate(this.rewrite(this.writer()))));
  }

  get publisherId(): string {
    return this.spec.publisherId;
  }

  /** Attaches to a (new) source: the subscriber restarts on its next keyframe, continuing its own numbering. */
  attach(publisherExtensions: HeaderExtension[]): void {
    this.fields.extensionIds = mapExtensions(publisherExtensions, this.spec.extensions);
    this.waitingKeyframe = true;
  }

  /** Updates the negotiated details of the same m-section (payload type, extensions after a renegotiation). */
  update(spec: SubscriptionSpec, publisherExtensions: HeaderExtension[] | undefined): void {
    this.spec = spec;
    this.fields.payloadType = spec.payloadType;
    this.useExtensions(spec.extensions);
    if (publisherExtensions) this.fields.extensionIds = mapExtensions(publisherExtensions, spec.extensions);
  }

  /**
   * Resends outgoing packet `outSeq` (a NACK from the subscriber) from the source's
   * retransmission buffer: `load(inSeq)` fills `packet` with the incoming packet.
   */
  retransmit(outSeq: number, load: (inSeq: number) => VideoPacket | undefined): boolean {
    if (this.paused || this.serverPaused) return false;
    const inSeq = this.rewriter.incomingFor(outSeq);
    if (inSeq < 0) return false;
    const packet = load(inSeq);
    if (!packet) return false;
    if (!this.ports.mayResend(packet.buffer.length)) {
      this.counters.resendsRefused++;
      return false;
    }
    this.fields.sequenceNumber = outSeq;
    this.fields.timestamp = (packet.header.timestamp + this.rewriter.timestampOffsetFor(outSeq)) >>> 0;
    this.fields.marker = packet.layerCodec ? this.sentMarkers[outSeq % this.sentMarkers.length] === 1 : undefined;
    if (!this.emit(packet)) return false;
    this.counters.retransmitted++;
    return true;
  }

  /**
   * Probing the subscriber's link: padding-only packets worth about `bytes` on this m-section, while
   * the server holds it paused (then nothing else goes out on it, so the padding takes the next
   * sequence numbers and the video continues after them when it resumes). Returns the packets sent.
   */
  sendPadding(bytes: number): number {
    if (!this.canPad) return 0;
    const { scratch } = this.ports;
    let sent = 0;
    let packets = 0;
    while (bytes - sent > 0) {
      const sequenceNumber = this.rewriter.reserve();
      if (sequenceNumber < 0) break;
      this.absSendTime.value = absSendTimeOf(this.ports.now());
      const out = this.paddingOut;
      out.ssrc = this.spec.ssrc;
      out.payloadType = this.spec.payloadType;
      out.sequenceNumber = sequenceNumber;
      out.timestamp = this.rewriter.timestamp;
      out.absSendTime = this.fields.absSendTime;
      const length = writePaddingRtp(scratch, out, Math.min(MAX_RTP_PADDING, bytes - sent));
      if (!this.ports.send(this.ports.view(length))) break;
      this.noteSent(out.timestamp, 0);
      sent += length;
      packets++;
    }
    return packets;
  }

  /**
   * A sender report for this m-section's SSRC, stamped `ntp` (the NTP time of monotonic `nowMs`), or
   * undefined before anything went out on it. The subscriber's next report block echoes it, which gives
   * the round trip through its link (the router's delay signal). The buffer is reused: send it at once.
   */
  senderReport(nowMs: number, ntp: NtpTime): Buffer | undefined {
    const { sent } = this;
    if (sent.atMs < 0) return undefined;
    // The RTP time now, on the 90 kHz clock every video codec uses, from the last packet's timestamp.
    const rtpTimestamp = (sent.timestamp + Math.round((nowMs - sent.atMs) * 90)) >>> 0;
    writeSenderReport(this.report, this.spec.ssrc, ntp, rtpTimestamp, sent.packets, sent.octets);
    return this.report;
  }

  private noteSent(timestamp: number, payloadOctets: number): void {
    const { sent } = this;
    sent.packets++;
    sent.octets += payloadOctets;
    sent.timestamp = timestamp;
    sent.atMs = this.ports.now();
  }

  /** Whether padding can go out on this m-section now (see sendPadding). */
  get canPad(): boolean {
    return this.serverPaused && !this.paused && this.open && this.rewriter.hasStarted;
  }

  private pauseGate(next: PacketSink): PacketSink {
    return (packet) => {
      if (this.paused || this.serverPaused) return;
      next(packet);
    };
  }

  private keyframeGate(next: PacketSink): PacketSink {
    return (packet) => {
      if (this.waitingKeyframe) {
        // Before its track opens nothing can reach the subscriber: a keyframe now would be wasted.
        if (!this.open || !packet.keyframe) {
          this.counters.dropped++;
          if (this.open) this.ports.requestKeyframe();
          return;
        }
        this.rewriter.resync();
        this.layers.reset();
      }
      next(packet);
    };
  }

  /** Which spatial and temporal layers of an SVC source this subscriber takes (the highest there are by default). */
  setLayerTarget(spatial: number, temporal: number): void {
    this.layers.setTarget(spatial, temporal);
    if (this.layers.wantsKeyframe && this.open && !this.paused && !this.serverPaused) this.ports.requestKeyframe();
  }

  /**
   * SVC: drops the layers above the subscriber's target, switching only where the codec
   * allows; a dropped packet's number is closed up. Other codecs pass with their own marker.
   */
  private layerGate(next: PacketSink): PacketSink {
    return (packet) => {
      const svc = packet.svc;
      if (!svc) {
        this.fields.marker = undefined;
        next(packet);
        return;
      }
      const verdict = this.layers.select(svc, packet.header.marker);
      // A higher layer that only a keyframe can start: ask (merged and rate-limited per source).
      if (svc.beginsPicture && this.layers.wantsKeyframe) this.ports.requestKeyframe();
      if (verdict === LayerVerdict.Drop) {
        this.rewriter.skip(packet.header.sequenceNumber);
        return;
      }
      this.fields.marker = verdict === LayerVerdict.ForwardEndOfPicture;
      next(packet);
    };
  }

  private rewrite(next: PacketSink): PacketSink {
    return (packet) => {
      if (!this.rewriter.rewrite(packet.header.sequenceNumber, packet.header.timestamp)) {
        this.counters.dropped++;
        return;
      }
      this.fields.sequenceNumber = this.rewriter.sequenceNumber;
      this.fields.timestamp = this.rewriter.timestamp;
      next(packet);
    };
  }

  private writer(): PacketSink {
    return (packet) => {
      this.sentMarkers[this.fields.sequenceNumber % this.sentMarkers.length] = this.fields.marker ? 1 : 0;
      if (!this.emit(packet)) return;
      this.counters.forwarded++;
      // Started only once a keyframe really went out; a failed send keeps waiting for the next one.
      this.waitingKeyframe = false;
    };
  }

  private emit(packet: VideoPacket): boolean {
    const { scratch } = this.ports;
    if (rewrittenRtpBound(packet.buffer, packet.header) > scratch.length) return false;
    this.absSendTime.value = absSendTimeOf(this.ports.now());
    const length = writeRewrittenRtp(scratch, packet.buffer, packet.header, this.fields);
    if (!this.ports.send(this.ports.view(length))) return false;
    this.noteSent(this.fields.timestamp, packet.header.payloadLength);
    return true;
  }

  private useExtensions(extensions: readonly HeaderExtension[]): void {
    const abs = extensions.find((e) => e.uri === ABS_SEND_TIME_URI);
    if (abs) this.absSendTime.id = abs.id;
    this.fields.absSendTime = abs ? this.absSendTime : undefined;
  }
}

/**
 * Publisher extension id to subscriber extension id, for the extensions both negotiated.
 * abs-send-time describes one hop: the server writes its own, never the publisher's.
 */
export function mapExtensions(publisher: HeaderExtension[], subscriber: HeaderExtension[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const ext of publisher) {
    if (ext.uri === ABS_SEND_TIME_URI) continue;
    const theirs = subscriber.find((e) => e.uri === ext.uri);
    if (theirs) map.set(ext.id, theirs.id);
  }
  return map;
}
