import type { Logger } from '../../logger.js';
import { isKeyframeStart, type VideoCodec } from './keyframes.js';
import { buildPli, buildRemb, parseRtcp } from '../rtp/rtcp.js';
import { parseRtp, rewriteRtp, seqDelta } from '../rtp/rtp.js';
import type { HeaderExtension } from '../peer/sdp.js';

/**
 * Forwards published video to subscribers: one incoming stream, many outgoing
 * ones, each with its own SSRC, payload type and continuous sequence numbers
 * and timestamps. Subscribers start on a keyframe, PLI/FIR go back to the
 * publisher, and NACKs are answered from a per-subscriber retransmission cache.
 * Transport-free: packets leave through the injected `send`.
 */

export interface PublicationInfo {
  streamId: number;
  publisherId: string;
  mid: string;
  codec: VideoCodec;
  payloadType: number;
  ssrc: number;
  /** Upper bound on the publisher's send rate, enforced with REMB. */
  maxBitrateBps: number;
  /** Header extensions negotiated with the publisher, by the publisher's ids. */
  extensions: HeaderExtension[];
}

export interface SubscriptionInfo {
  mid: string;
  streamId: number;
  payloadType: number;
  ssrc: number;
  /** Header extensions negotiated with the subscriber, by the subscriber's ids. */
  extensions: HeaderExtension[];
}

export type PacketSender = (participantId: string, mid: string, packet: Buffer) => boolean;

/** Server SSRC used as the sender of RTCP feedback toward publishers. */
const FEEDBACK_SSRC = 0x43484f52;
const KEYFRAME_REQUEST_INTERVAL_MS = 300;
const RETRANSMIT_SLOTS = 1024;
/** Frame spacing assumed when a subscription switches source, at 90 kHz. */
const TIMESTAMP_GAP = 3000;

interface Subscription {
  subscriberId: string;
  info: SubscriptionInfo;
  paused: boolean;
  waitingKeyframe: boolean;
  seqOffset: number;
  tsOffset: number;
  lastSeq: number;
  lastTs: number;
  started: boolean;
  cache: (Buffer | undefined)[];
  /** Publisher extension id to subscriber extension id, for the publication it was computed against. */
  extensionIds?: { for: PublicationInfo; map: Map<number, number> };
}

interface Publication {
  info: PublicationInfo;
  subscribers: Set<Subscription>;
  lastKeyframeRequest: number;
}

export interface VideoRouterStats {
  packetsIn: number;
  packetsForwarded: number;
  packetsDropped: number;
  retransmissions: number;
  keyframeRequests: number;
}

const randomUint = (bits: number): number => Math.floor(Math.random() * 2 ** bits);

export class VideoRouter {
  private readonly publications = new Map<number, Publication>();
  /** subscriberId -> mid -> subscription */
  private readonly subscribers = new Map<string, Map<string, Subscription>>();
  readonly stats: VideoRouterStats = { packetsIn: 0, packetsForwarded: 0, packetsDropped: 0, retransmissions: 0, keyframeRequests: 0 };

  constructor(
    private readonly send: PacketSender,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  publish(info: PublicationInfo): void {
    const existing = this.publications.get(info.streamId);
    this.publications.set(info.streamId, { info, subscribers: existing?.subscribers ?? new Set(), lastKeyframeRequest: -Infinity });
    // Subscribers of a replaced publication must resynchronise on the new source's next keyframe.
    for (const sub of existing?.subscribers ?? []) sub.waitingKeyframe = true;
    this.requestKeyframe(info.streamId);
  }

  unpublish(streamId: number): void {
    const publication = this.publications.get(streamId);
    if (!publication) return;
    this.publications.delete(streamId);
    for (const sub of publication.subscribers) sub.waitingKeyframe = true;
  }

  hasPublication(streamId: number): boolean {
    return this.publications.has(streamId);
  }

  /** Replaces what `subscriberId` receives. Kept mids keep their sequence continuity. */
  setSubscriptions(subscriberId: string, wanted: SubscriptionInfo[]): void {
    const current = this.subscribers.get(subscriberId) ?? new Map<string, Subscription>();
    const next = new Map<string, Subscription>();
    for (const info of wanted) {
      const previous = current.get(info.mid);
      let sub: Subscription;
      if (previous && previous.info.ssrc === info.ssrc) {
        sub = previous;
        if (previous.info.streamId !== info.streamId) {
          this.detach(previous);
          sub.waitingKeyframe = true;
        }
        sub.info = info;
        sub.extensionIds = undefined;
      } else {
        sub = {
          subscriberId, info, paused: false, waitingKeyframe: true,
          seqOffset: 0, tsOffset: 0, lastSeq: randomUint(15), lastTs: randomUint(31), started: false,
          cache: new Array<Buffer | undefined>(RETRANSMIT_SLOTS),
        };
      }
      next.set(info.mid, sub);
      const publication = this.publications.get(info.streamId);
      if (publication && !publication.subscribers.has(sub)) {
        publication.subscribers.add(sub);
        this.requestKeyframe(info.streamId);
      }
    }
    for (const [mid, sub] of current) if (!next.has(mid) || next.get(mid) !== sub) this.detach(sub);
    if (next.size > 0) this.subscribers.set(subscriberId, next);
    else this.subscribers.delete(subscriberId);
  }

  /** Stops everything `participantId` sends or receives. */
  removeParticipant(participantId: string): number[] {
    this.setSubscriptions(participantId, []);
    const removed: number[] = [];
    for (const [streamId, publication] of this.publications) {
      if (publication.info.publisherId === participantId) {
        this.unpublish(streamId);
        removed.push(streamId);
      }
    }
    return removed;
  }

  setPaused(subscriberId: string, streamIds: number[], paused: boolean): void {
    const wanted = new Set(streamIds);
    for (const sub of this.subscribers.get(subscriberId)?.values() ?? []) {
      if (!wanted.has(sub.info.streamId)) continue;
      if (sub.paused && !paused) {
        sub.waitingKeyframe = true;
        this.requestKeyframe(sub.info.streamId);
      }
      sub.paused = paused;
    }
  }

  /** A subscriber's outgoing track opened: it needs a keyframe to show anything. */
  subscriberTrackOpened(subscriberId: string, mid: string): void {
    const sub = this.subscribers.get(subscriberId)?.get(mid);
    if (sub) this.requestKeyframe(sub.info.streamId);
  }

  /** Hot path: one RTP packet from a publisher's video m-section. */
  onPublisherRtp(streamId: number, packet: Buffer): void {
    this.stats.packetsIn++;
    const publication = this.publications.get(streamId);
    if (!publication || publication.subscribers.size === 0) return;
    const info = parseRtp(packet);
    // RTX, FEC, RED and padding-only packets are not forwarded: subscribers get plain media and NACK us instead.
    if (!info || info.payloadType !== publication.info.payloadType || info.ssrc !== publication.info.ssrc || info.payloadLength === 0) {
      this.stats.packetsDropped++;
      return;
    }
    let keyframe: boolean | undefined;
    for (const sub of publication.subscribers) {
      if (sub.paused) continue;
      if (sub.waitingKeyframe) {
        keyframe ??= isKeyframeStart(publication.info.codec, packet.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength));
        if (!keyframe) {
          this.requestKeyframe(streamId);
          continue;
        }
        sub.waitingKeyframe = false;
        sub.seqOffset = (sub.lastSeq + 1 - info.sequenceNumber) & 0xffff;
        sub.tsOffset = (sub.lastTs + (sub.started ? TIMESTAMP_GAP : 0) - info.timestamp) >>> 0;
        sub.started = true;
      }
      const seq = (info.sequenceNumber + sub.seqOffset) & 0xffff;
      const ts = (info.timestamp + sub.tsOffset) >>> 0;
      if (seqDelta(sub.lastSeq, seq) > 0) {
        sub.lastSeq = seq;
        sub.lastTs = ts;
      }
      const out = rewriteRtp(packet, info, {
        ssrc: sub.info.ssrc,
        payloadType: sub.info.payloadType,
        sequenceNumber: seq,
        timestamp: ts,
        extensionIds: this.extensionIdsFor(sub, publication.info),
      });
      sub.cache[seq % RETRANSMIT_SLOTS] = out;
      if (this.send(sub.subscriberId, sub.info.mid, out)) this.stats.packetsForwarded++;
    }
  }

  /** RTCP a subscriber sent about a stream we send it. */
  onSubscriberRtcp(subscriberId: string, mid: string, packet: Buffer): void {
    const sub = this.subscribers.get(subscriberId)?.get(mid);
    if (!sub) return;
    for (const message of parseRtcp(packet)) {
      switch (message.kind) {
        case 'pli':
        case 'fir':
          this.requestKeyframe(sub.info.streamId);
          break;
        case 'nack':
          for (const seq of message.sequenceNumbers) {
            const cached = sub.cache[seq % RETRANSMIT_SLOTS];
            if (cached && cached.readUInt16BE(2) === seq && this.send(subscriberId, mid, cached)) this.stats.retransmissions++;
          }
          break;
        case 'remb':
        case 'sender-report':
        case 'receiver-report':
          break;
        default: {
          const unreachable: never = message;
          this.logger.debug('rtcp_unhandled', { message: unreachable });
        }
      }
    }
  }

  /** Sends each publisher a REMB with its cap; called periodically. */
  enforceBitrateCaps(): void {
    for (const { info } of this.publications.values()) {
      this.send(info.publisherId, info.mid, buildRemb(FEEDBACK_SSRC, info.maxBitrateBps, [info.ssrc]));
    }
  }

  requestKeyframe(streamId: number): void {
    const publication = this.publications.get(streamId);
    if (!publication) return;
    const now = this.now();
    if (now - publication.lastKeyframeRequest < KEYFRAME_REQUEST_INTERVAL_MS) return;
    publication.lastKeyframeRequest = now;
    this.stats.keyframeRequests++;
    this.send(publication.info.publisherId, publication.info.mid, buildPli(FEEDBACK_SSRC, publication.info.ssrc));
  }

  close(): void {
    this.publications.clear();
    this.subscribers.clear();
  }

  private extensionIdsFor(sub: Subscription, publication: PublicationInfo): Map<number, number> {
    if (sub.extensionIds?.for !== publication) {
      const map = new Map<number, number>();
      for (const ext of publication.extensions) {
        const theirs = sub.info.extensions.find((e) => e.uri === ext.uri);
        if (theirs) map.set(ext.id, theirs.id);
      }
      sub.extensionIds = { for: publication, map };
    }
    return sub.extensionIds.map;
  }

  private detach(sub: Subscription): void {
    this.publications.get(sub.info.streamId)?.subscribers.delete(sub);
  }
}
