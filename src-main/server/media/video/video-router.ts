import type { Logger } from '../../logger.js';
import { DownlinkAllocator, type AllocationCandidate, type DownlinkAllocatorSettings } from '../bwe/downlink-allocator.js';
import { DownlinkEstimate, type DownlinkEstimateSettings } from '../bwe/downlink-estimate.js';
import { DownlinkProber, type DownlinkProberSettings } from '../bwe/downlink-prober.js';
import type { EgressBudget } from '../bwe/egress-budget.js';
import { ResendBudget, type ResendBudgetSettings } from '../bwe/resend-budget.js';
import { NtpClock, type NtpTime } from '../rtp/ntp.js';
import { parseRtcp, type ReceptionReport } from '../rtp/rtcp.js';
import { IncomingVideoStream, type IncomingStreamSettings, type PublicationSpec } from './incoming-stream.js';
import type { VideoCodec } from './codecs.js';
import type { LayerStructure } from './stream-layers.js';
import { VideoSubscription, type SubscriptionSpec } from './video-subscription.js';

export type { PublicationSpec } from './incoming-stream.js';
export type { SubscriptionSpec } from './video-subscription.js';

export interface VideoRouterSettings extends IncomingStreamSettings {
  /** Each subscriber's downlink estimate (its REMB and receiver reports). */
  downlink: DownlinkEstimateSettings;
  /** Which videos each subscriber keeps when its downlink cannot carry them all. */
  allocator: DownlinkAllocatorSettings;
  /** Padding probes before a paused video is resumed. */
  prober: DownlinkProberSettings;
  /** What each subscriber may be sent as retransmissions. */
  resend: ResendBudgetSettings;
  /**
   * Sender reports on every video m-section, every `intervalMs`; while a probe sends padding to a
   * subscriber, every `probingIntervalMs` (the round trips they come back with are the probe's delay signal).
   */
  senderReports: { intervalMs: number; probingIntervalMs: number };
}

/** How much one subscriber wants one publisher's video (Chime's VideoPreference, as SUBSCRIBE and REMOTE_VIDEO_UPDATE carry it). */
export interface VideoPreferenceSpec {
  /** Higher is more important (the wire value: 2^32 - 1 minus the SDK's priority). */
  priority: number;
  /** The most this video should take, bps (its target display size); 0: no limit. */
  targetBps: number;
}

/** One subscriber's downlink: its estimate, which videos and layers fit it, probes for more, and its resend budget. */
interface SubscriberLink {
  estimate: DownlinkEstimate;
  allocator: DownlinkAllocator;
  prober: DownlinkProber;
  resends: ResendBudget;
  /** When its video m-sections get their next sender reports. */
  nextSenderReportsMs: number;
}

/** Videos the allocator paused or resumed for one subscriber, by publisher. */
export interface DownlinkChange {
  subscriberId: string;
  paused: string[];
  resumed: string[];
}

/** What the router tells its owner about. */
export interface VideoRouterEvents {
  /** A publisher's SVC layer structure (layers, resolutions) changed: subscribers should be told. */
  layersChanged(publisherId: string): void;
}

/** How the router reaches the network: one participant's m-section. Transport-free otherwise. */
export interface VideoTransport {
  send(participantId: string, mid: string, packet: Buffer): boolean;
}

export interface VideoRouterStats {
  packetsIn: number;
  packetsForwarded: number;
  packetsDropped: number;
  retransmissions: number;
  keyframeRequests: number;
  /** Loss toward the server: packets found missing, recovered after a NACK, NACKs sent, given up. */
  upstreamMissing: number;
  upstreamRecovered: number;
  upstreamNacks: number;
  upstreamGivenUp: number;
}

/** Largest packet the forwarding path writes (an MTU-sized packet plus two-byte extension growth). */
const SCRATCH_BYTES = 2048;

/**
 * Routes published video to subscribers. Each publisher has one
 * IncomingVideoStream (the packets' owner); each subscriber m-section has one
 * VideoSubscription (its chain of stages). Keyed by participant id; the
 * signaling layer's stream ids never reach here. Time comes from `now`.
 */
export class VideoRouter {
  private readonly streams = new Map<string, IncomingVideoStream>();
  /** subscriberId -> mid -> subscription */
  private readonly subscriptions = new Map<string, Map<string, VideoSubscription>>();
  /** subscriberId -> what is known and decided about its downlink, from its first subscription (or REMB) until it leaves. */
  private readonly links = new Map<string, SubscriberLink>();
  /** When padding was last sent (tick), to pace it by elapsed time. */
  private lastPaddingMs = 0;
  /** Subscribers whose layers the server chooses (Chime's server-side network adaptation). */
  private readonly serverAdapted = new Set<string>();
  /** subscriberId -> publisherId -> its VideoPreference: priority (higher first) and the most it should get. */
  private readonly preferences = new Map<string, Map<string, VideoPreferenceSpec>>();
  /** subscriberId -> publisherId -> the [spatial, temporal] layers the server last chose for it (server-adapted subscribers). */
  private readonly serverLayers = new Map<string, Map<string, readonly [number, number]>>();
  /** subscriberId -> publisherId -> the [spatial, temporal] layers it asked for (SVC sources); absent: all. */
  private readonly layerTargets = new Map<string, Map<string, readonly [number, number]>>();
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly views: (Buffer | undefined)[] = new Array(SCRATCH_BYTES + 1);
  private readonly retired = { packetsIn: 0, packetsDropped: 0, forwarded: 0, dropped: 0, retransmitted: 0, keyframeRequests: 0, missing: 0, recovered: 0, nacks: 0, givenUp: 0 };

  constructor(
    private readonly transport: VideoTransport,
    private readonly settings: VideoRouterSettings,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly events: VideoRouterEvents = { layersChanged: () => undefined },
    /** The host's cap on all video it sends (shared with other meetings' routers), and this router's key prefix in it. */
    private readonly egress?: { budget: EgressBudget; scope: string },
    /** NTP time for sender reports, over `now` (tests: any epoch; round trips only take differences). */
    private readonly ntp: NtpClock = new NtpClock(0),
  ) {}

  /** The NTP time of the sender report being written (reused). */
  private readonly ntpTime: NtpTime = { msw: 0, lsw: 0 };

  /** Starts (or replaces) `publisherId`'s video. Its subscribers stay, and restart on the new source's next keyframe. */
  publish(publisherId: string, spec: PublicationSpec): void {
    const previous = this.streams.get(publisherId);
    if (previous) this.retire(previous);
    const stream = new IncomingVideoStream(publisherId, spec, this.settings, (rtcp) => this.transport.send(publisherId, spec.mid, rtcp), () =>
      this.events.layersChanged(publisherId));
    this.streams.set(publisherId, stream);
    for (const byMid of this.subscriptions.values()) {
      for (const subscription of byMid.values()) if (subscription.publisherId === publisherId) this.attach(subscription, stream);
    }
    stream.requestKeyframe(this.now());
  }

  /** Stops `publisherId`'s video; its subscriptions wait (paused on nothing) until it publishes again or they change. */
  unpublish(publisherId: string): void {
    const stream = this.streams.get(publisherId);
    if (!stream) return;
    this.streams.delete(publisherId);
    this.retire(stream);
  }

  hasPublication(publisherId: string): boolean {
    return this.streams.has(publisherId);
  }

  /** What `publisherId` publishes (its maxBitrateBps may be changed in place). */
  publication(publisherId: string): PublicationSpec | undefined {
    return this.streams.get(publisherId)?.spec;
  }

  publisherCodec(publisherId: string): VideoCodec | undefined {
    return this.streams.get(publisherId)?.spec.codec;
  }

  /** Replaces what `subscriberId` receives. A mid that keeps its SSRC keeps its numbering. */
  setSubscriptions(subscriberId: string, wanted: SubscriptionSpec[]): void {
    const current = this.subscriptions.get(subscriberId) ?? new Map<string, VideoSubscription>();
    const next = new Map<string, VideoSubscription>();
    for (const spec of wanted) {
      const previous = current.get(spec.mid);
      let subscription: VideoSubscription;
      if (previous && previous.spec.ssrc === spec.ssrc) {
        subscription = previous;
        const samePublisher = previous.publisherId === spec.publisherId;
        if (!samePublisher) {
          this.detach(previous);
          // A pause the server made for the old publisher is not one for the new: the next round decides.
          previous.serverPaused = false;
        }
        subscription.update(spec, samePublisher ? this.streams.get(spec.publisherId)?.spec.extensions : undefined);
        if (samePublisher) {
          next.set(spec.mid, subscription);
          continue;
        }
      } else {
        if (previous) this.detach(previous);
        const link = this.link(subscriberId);
        subscription = new VideoSubscription(subscriberId, spec, {
          mayResend: (bytes) => link.resends.take(bytes, link.estimate.bps),
          send: (packet) => {
            if (!this.transport.send(subscriberId, spec.mid, packet)) return false;
            link.estimate.onSent(packet.length);
            return true;
          },
          requestKeyframe: () => this.streams.get(subscription.publisherId)?.requestKeyframe(this.now()),
          scratch: this.scratch,
          view: (length) => (this.views[length] ??= this.scratch.subarray(0, length)),
          now: this.now,
        });
      }
      next.set(spec.mid, subscription);
      const stream = this.streams.get(spec.publisherId);
      if (stream) this.attach(subscription, stream);
    }
    for (const [mid, subscription] of current) if (next.get(mid) !== subscription) this.detach(subscription);
    if (next.size > 0) this.subscriptions.set(subscriberId, next);
    else this.subscriptions.delete(subscriberId);
  }

  /** Stops everything `participantId` receives and, unless kept for a reconnect, what it publishes. */
  removeParticipant(participantId: string, options: { keepPublication?: boolean } = {}): void {
    this.setSubscriptions(participantId, []);
    this.links.delete(participantId);
    this.layerTargets.delete(participantId);
    this.serverAdapted.delete(participantId);
    this.serverLayers.delete(participantId);
    this.preferences.delete(participantId);
    this.egress?.budget.remove(`${this.egress.scope}/${participantId}`);
    if (!options.keepPublication) this.unpublish(participantId);
  }

  /** PAUSE/RESUME from a subscriber, by publisher. A resumed subscription restarts on a keyframe. */
  setPaused(subscriberId: string, publisherIds: readonly string[], paused: boolean): void {
    for (const subscription of this.subscriptions.get(subscriberId)?.values() ?? []) {
      if (!publisherIds.includes(subscription.publisherId)) continue;
      if (subscription.paused && !paused) {
        subscription.waitingKeyframe = true;
        this.streams.get(subscription.publisherId)?.requestKeyframe(this.now());
      }
      subscription.paused = paused;
      this.link(subscriberId).estimate.setSending(subscription.spec.ssrc, !subscription.paused && !subscription.serverPaused);
    }
  }

  /**
   * The SVC layers `subscriberId` takes of `publisherId`'s video, highest spatial and temporal
   * layer (a stream id it chose in INDEX); kept for the pair, so a later subscription starts there.
   */
  setLayerTarget(subscriberId: string, publisherId: string, spatial: number, temporal: number): void {
    let targets = this.layerTargets.get(subscriberId);
    if (!targets) {
      targets = new Map();
      this.layerTargets.set(subscriberId, targets);
    }
    targets.set(publisherId, [spatial, temporal]);
    // Where the server chooses, its choice stands: a client in that mode subscribes to every layer.
    if (this.serverAdapted.has(subscriberId)) return;
    for (const subscription of this.subscriptions.get(subscriberId)?.values() ?? []) {
      if (subscription.publisherId === publisherId) subscription.setLayerTarget(spatial, temporal);
    }
  }

  /** `publisherId`'s SVC layers, once its packets showed it sends layers; undefined for a single-layer stream. */
  layersOf(publisherId: string): LayerStructure | undefined {
    const layers = this.streams.get(publisherId)?.layers;
    return layers?.layered ? layers.structure() : undefined;
  }

  /** What a subscriber taking `publisherId`'s layers up to (spatial, temporal) receives, bps. */
  layerBitrateBps(publisherId: string, spatial: number, temporal: number): number {
    const stream = this.streams.get(publisherId);
    if (!stream) return 0;
    return stream.layers.layered ? stream.layers.bitrateBps(spatial, temporal, this.now()) : stream.meter.bps(this.now());
  }

  /** A subscriber's outgoing track opened: now a keyframe can reach it, so ask for one. */
  subscriberTrackOpened(subscriberId: string, mid: string): void {
    const subscription = this.subscriptions.get(subscriberId)?.get(mid);
    if (!subscription) return;
    subscription.open = true;
    if (subscription.waitingKeyframe) this.streams.get(subscription.publisherId)?.requestKeyframe(this.now());
  }

  /** Hot path: one RTP packet from a publisher's video m-section. */
  onPublisherRtp(publisherId: string, packet: Buffer): void {
    this.streams.get(publisherId)?.onRtp(packet, this.now());
  }

  /**
   * RTCP a participant sent on any of its m-sections. REMB (its downlink estimate for the whole
   * connection) counts wherever it arrives; the rest concerns the stream we send it on `mid`.
   */
  onSubscriberRtcp(subscriberId: string, mid: string, packet: Buffer): void {
    const subscription = this.subscriptions.get(subscriberId)?.get(mid);
    const stream = subscription && this.streams.get(subscription.publisherId);
    for (const message of parseRtcp(packet)) {
      if (message.kind === 'remb') {
        this.link(subscriberId).estimate.onRemb(message.bitrate);
        continue;
      }
      if (message.kind === 'receiver-report') {
        this.noteReceiverReport(subscriberId, message.reports);
        continue;
      }
      if (!subscription) continue;
      switch (message.kind) {
        case 'pli':
        case 'fir':
          stream?.requestKeyframe(this.now());
          break;
        case 'nack':
          if (!stream || stream.subscriptions.has(subscription) === false) break;
          for (const seq of message.sequenceNumbers) subscription.retransmit(seq, (inSeq) => stream.loadForResend(inSeq, this.now()));
          break;
        case 'sender-report':
          break;
        default: {
          const unreachable: never = message;
          this.logger.debug('rtcp_unhandled', { message: unreachable });
        }
      }
    }
  }

  /** What `subscriberId` can take, in bps, as of the last updateDownlinks; 0 for one that never received video. */
  downlinkEstimateBps(subscriberId: string): number {
    return this.links.get(subscriberId)?.estimate.bps ?? 0;
  }

  /** The signals behind a subscriber's figure, for logs. */
  downlinkSignals(subscriberId: string): { rembBps: number; sentBps: number; lossFraction: number; holding: boolean } | undefined {
    const d = this.links.get(subscriberId)?.estimate;
    return d && { rembBps: d.rembBitrateBps, sentBps: d.sentBps, lossFraction: d.lossFraction, holding: d.holding };
  }

  /** Moves every subscriber's downlink figure on its REMB, loss and what it was sent; the media clock calls it. */
  updateDownlinks(): void {
    for (const link of this.links.values()) link.estimate.update();
  }

  /** What `publisherId` has been sending lately (forwarded packets, headers included), in bps; 0 when nothing. */
  streamBitrateBps(publisherId: string): number {
    return this.streams.get(publisherId)?.meter.bps(this.now()) ?? 0;
  }

  /**
   * Fits each subscriber's videos to its downlink figure (call after updateDownlinks): `rank` orders
   * publishers, most important first. Videos the subscriber paused itself cost nothing and are left out.
   * A paused video stops at once; a resumed one restarts on a keyframe.
   */
  allocateDownlinks(rank: (publisherId: string) => number): DownlinkChange[] {
    const changes: DownlinkChange[] = [];
    const now = this.now();
    for (const [subscriberId, byMid] of this.subscriptions) {
      const link = this.link(subscriberId);
      const { allocator } = link;
      const adapt = this.serverAdapted.has(subscriberId);
      const prefs = this.preferences.get(subscriberId);
      const priority = (publisherId: string) => prefs?.get(publisherId)?.priority ?? 0;
      const ladders = new Map<string, { spatial: number; temporal: number; bps: number }[]>();
      const candidates = [...byMid.values()]
        .filter((s) => !s.paused && this.streams.has(s.publisherId))
        .sort((a, b) => priority(b.publisherId) - priority(a.publisherId) || rank(a.publisherId) - rank(b.publisherId))
        .map((s): AllocationCandidate => {
          const layers = this.streams.get(s.publisherId)!.layers;
          if (!adapt || !layers.layered) return { id: s.publisherId, bps: this.layerBitrateBps(s.publisherId, s.layers.targetSpatial, s.layers.targetTemporal) };
          // The server chooses: the ladder up to the most this subscriber wants of it.
          const target = prefs?.get(s.publisherId)?.targetBps ?? 0;
          const ladder = layers.ladder(now).filter((step, i) => i === 0 || target <= 0 || step.bps <= target);
          ladders.set(s.publisherId, ladder);
          return { id: s.publisherId, bps: ladder.at(-1)!.bps, steps: ladder.map((step) => step.bps) };
        });
      const proven = this.judgeProbe(subscriberId, link);
      const figure = this.allocationFigure(subscriberId, candidates);
      const { paused, resumed } = allocator.allocate(candidates, figure, { proven });
      this.maybeProbe(subscriberId, link, candidates, figure);
      for (const subscription of byMid.values()) {
        // The flag follows the allocator's own set: a video it no longer holds paused (resumed, or
        // gone from its candidates while the subscriber paused it itself) is resumed, and said so.
        const held = allocator.pausedIds.has(subscription.publisherId);
        if (held) {
          if (!subscription.serverPaused) link.estimate.setSending(subscription.spec.ssrc, false);
          subscription.serverPaused = true;
        } else if (subscription.serverPaused) {
          subscription.serverPaused = false;
          link.estimate.setSending(subscription.spec.ssrc, !subscription.paused);
          if (!resumed.includes(subscription.publisherId)) resumed.push(subscription.publisherId);
          if (!subscription.paused) {
            subscription.waitingKeyframe = true;
            this.streams.get(subscription.publisherId)?.requestKeyframe(now);
          }
        }
        const ladder = ladders.get(subscription.publisherId);
        const step = ladder && allocator.stepOf(subscription.publisherId);
        if (ladder && step !== undefined) {
          const { spatial, temporal } = ladder[step]!;
          subscription.setLayerTarget(spatial, temporal);
          let chosen = this.serverLayers.get(subscriberId);
          if (!chosen) this.serverLayers.set(subscriberId, (chosen = new Map()));
          chosen.set(subscription.publisherId, [spatial, temporal]);
        }
      }
      if (paused.length > 0 || resumed.length > 0) changes.push({ subscriberId, paused, resumed });
    }
    return changes;
  }

  /** Judges a finished probe: true when it got through, and the figure now carries its rate. */
  private judgeProbe(subscriberId: string, { estimate: downlink, prober }: SubscriberLink): boolean {
    // (No cut can come while a probe runs: the estimate is suspended until its verdict.)
    const reportsFrom = prober.reportsFromMs;
    const startedAt = prober.startedAtMs;
    if (reportsFrom === undefined || startedAt === undefined || !prober.due) return false;
    const loss = downlink.worstLossSince(reportsFrom);
    // The sender reports that met the padding: sent while it went out (or just after its last packet).
    // (A receiver reports each stream about once a second: by the verdict one echo may be all there is.)
    const queueDelayMs = downlink.queueDelaySince(startedAt, (prober.sendsUntilMs ?? startedAt) + this.settings.senderReports.probingIntervalMs, 1);
    // Its reports come about once a second: wait for one that covers the padding and, unless that one
    // already shows loss, for the round trips that show whether it queued (unless it was stopped for
    // queueing, or waited as long as it may: a client that echoes no sender report is judged on loss).
    const lost = loss !== undefined && loss > this.settings.prober.maxLossFraction;
    if ((loss === undefined || (!lost && queueDelayMs === undefined)) && !prober.overdue && !prober.abandoned) return false;
    const target = prober.targetBps;
    const verdict = prober.finish(loss, queueDelayMs);
    this.logger.debug('downlink_probe', {
      subscriberId, targetBps: Math.round(target), sentBps: Math.round(downlink.sentBps), loss, queueDelayMs: queueDelayMs && Math.round(queueDelayMs), verdict,
    });
    switch (verdict) {
      case 'succeeded':
        downlink.probeSucceeded(target);
        return true;
      case 'failed':
        downlink.probeFailed(this.settings.prober.drainMs);
        return false;
      case 'inconclusive':
        downlink.probeInconclusive();
        return false;
      default: {
        const unknown: never = verdict;
        throw new Error(`unknown probe verdict ${String(unknown)}`);
      }
    }
  }

  /**
   * With videos paused for want of downlink (not of the host's egress budget), probes whether the
   * next one would fit: padding on one of the paused m-sections, up to the rate that video needs.
   */
  private maybeProbe(subscriberId: string, { estimate: downlink, prober, allocator }: SubscriberLink, candidates: readonly AllocationCandidate[], figure: number): void {
    if (prober.active || figure <= 0 || figure < downlink.bps) return;
    if (this.now() - downlink.lastCutMs < this.settings.prober.firstIntervalMs) return;
    // Not while the videos that play are still being lost or queued: the link is full already, and a
    // probe's verdict there says nothing (measured: one "succeeded" over a full tbf queue, whose drops
    // it could not add to). The figure comes down first; the next report that is clean allows one.
    const queueing = downlink.queueingMs;
    if (downlink.lossFraction > this.settings.prober.maxLossFraction || (queueing !== undefined && queueing > this.settings.prober.maxQueueDelayMs)) return;
    // Nor while videos the last probe cleared still wait their turn to resume: that figure is spoken for.
    if (allocator.resuming) return;
    const paused = candidates.filter((c) => allocator.pausedIds.has(c.id));
    if (paused.length === 0) return;
    const carrier = this.paddingCarrier(subscriberId);
    if (!carrier) return;
    let using = 0;
    for (const c of candidates) {
      if (allocator.pausedIds.has(c.id)) continue;
      const step = allocator.stepOf(c.id);
      using += c.steps && step !== undefined ? c.steps[step]! : c.bps;
    }
    const { budgetShare, resumeMargin } = this.settings.allocator;
    // What the videos need with the paused ones back, in priority order: at least the next one, and,
    // unless the last probe failed, as many more as fit in three times what is sent now (a link that got
    // better usually has room for several, and one probe per video would take a second each; a probe
    // too high stops as soon as it queues). 15% over the bare need: measured rates move between rounds
    // (a resumed video starts with a keyframe, and raises its publisher's rate), and what a probe proved
    // must still fit when its videos resume.
    const sent = downlink.sentBps;
    const need = (bps: number) => ((using + bps * resumeMargin) / budgetShare) * 1.15;
    let wanted = 0;
    let target = 0;
    for (const c of paused) {
      wanted += c.steps?.[0] ?? c.bps;
      if (target > 0 && (prober.lastFailed || need(wanted) > 3 * sent)) break;
      target = need(wanted);
    }
    const padding = target - sent;
    if (prober.start(target, padding)) downlink.suspendUntil(prober.suspendUntilMs);
  }

  /** A server-paused m-section of `subscriberId` that padding can go out on. */
  private paddingCarrier(subscriberId: string): VideoSubscription | undefined {
    for (const subscription of this.subscriptions.get(subscriberId)?.values() ?? []) if (subscription.canPad) return subscription;
    return undefined;
  }

  /** Sends the padding of running probes, paced by the media clock. */
  private pad(now: number): void {
    const elapsedMs = Math.min(100, now - this.lastPaddingMs);
    this.lastPaddingMs = now;
    if (elapsedMs <= 0) return;
    for (const [subscriberId, { prober }] of this.links) {
      const bps = prober.paddingBps;
      if (bps <= 0) continue;
      this.paddingCarrier(subscriberId)?.sendPadding((bps * elapsedMs) / 8000);
    }
  }

  /** Whether the server chooses `subscriberId`'s layers (it asked for server-side adaptation and JOIN_ACK granted it). */
  setServerAdaptation(subscriberId: string, on: boolean): void {
    if (on) this.serverAdapted.add(subscriberId);
    else this.serverAdapted.delete(subscriberId);
  }

  /** `subscriberId`'s VideoPreferences, by publisher: merged over what it said before unless `replace`. */
  setPreferences(subscriberId: string, preferences: ReadonlyMap<string, VideoPreferenceSpec>, replace: boolean): void {
    const current = replace ? new Map<string, VideoPreferenceSpec>() : (this.preferences.get(subscriberId) ?? new Map<string, VideoPreferenceSpec>());
    for (const [publisherId, preference] of preferences) current.set(publisherId, preference);
    this.preferences.set(subscriberId, current);
  }

  /**
   * What a subscriber's videos may use: its downlink figure, held to its share of the host's
   * egress budget when there is one (the share is reported as demand first: all it would take).
   */
  private allocationFigure(subscriberId: string, candidates: readonly { bps: number }[]): number {
    const estimate = this.downlinkEstimateBps(subscriberId);
    if (!this.egress?.budget.limited) return estimate;
    const key = `${this.egress.scope}/${subscriberId}`;
    let demand = 0;
    for (const c of candidates) demand += c.bps;
    this.egress.budget.setDemand(key, demand);
    // The allocator keeps a share of its figure for audio and headroom; the budget is for video alone.
    const cap = this.egress.budget.capFor(key) / this.settings.allocator.budgetShare;
    return estimate > 0 ? Math.min(estimate, cap) : cap;
  }

  /** Periodic work of every incoming stream (NACKs, keyframe retries, bitrate caps); the media clock calls it. */
  tick(): void {
    const now = this.now();
    for (const stream of this.streams.values()) stream.tick(now);
    this.pad(now);
    this.sendSenderReports(now);
  }

  get stats(): VideoRouterStats {
    const r = this.retired;
    const stats: VideoRouterStats = {
      packetsIn: r.packetsIn, packetsForwarded: r.forwarded, packetsDropped: r.packetsDropped + r.dropped, retransmissions: r.retransmitted,
      keyframeRequests: r.keyframeRequests, upstreamMissing: r.missing, upstreamRecovered: r.recovered, upstreamNacks: r.nacks, upstreamGivenUp: r.givenUp,
    };
    for (const stream of this.streams.values()) {
      stats.packetsIn += stream.counters.packetsIn;
      stats.packetsDropped += stream.counters.packetsDropped;
      stats.keyframeRequests += stream.keyframes.sent;
      stats.upstreamMissing += stream.nacks.stats.missing;
      stats.upstreamRecovered += stream.nacks.stats.recovered;
      stats.upstreamNacks += stream.nacks.stats.nacksSent;
      stats.upstreamGivenUp += stream.nacks.stats.givenUp;
    }
    for (const byMid of this.subscriptions.values()) {
      for (const s of byMid.values()) {
        stats.packetsForwarded += s.counters.forwarded;
        stats.packetsDropped += s.counters.dropped;
        stats.retransmissions += s.counters.retransmitted;
      }
    }
    return stats;
  }

  close(): void {
    if (this.egress) for (const subscriberId of this.subscriptions.keys()) this.egress.budget.remove(`${this.egress.scope}/${subscriberId}`);
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    this.subscriptions.clear();
  }

  private link(subscriberId: string): SubscriberLink {
    let link = this.links.get(subscriberId);
    if (!link) {
      const { settings, now } = this;
      link = {
        estimate: new DownlinkEstimate(settings.downlink, now),
        allocator: new DownlinkAllocator(settings.allocator, now),
        prober: new DownlinkProber(settings.prober, now),
        resends: new ResendBudget(settings.resend, now),
        nextSenderReportsMs: -Infinity,
      };
      this.links.set(subscriberId, link);
    }
    return link;
  }

  /**
   * Reports about the video SSRCs we send `subscriberId` (its reports on our audio are left out): their
   * loss, and the round trip of the sender report each echoes. A probe whose padding is queueing stops.
   */
  private noteReceiverReport(subscriberId: string, reports: readonly ReceptionReport[]): void {
    const byMid = this.subscriptions.get(subscriberId);
    if (!byMid) return;
    const now = this.now();
    for (const report of reports) {
      for (const subscription of byMid.values()) {
        if (subscription.spec.ssrc !== report.ssrc) continue;
        const { estimate, prober } = this.link(subscriberId);
        estimate.onReceiverReport(report.ssrc, report.fractionLost, report.highestSequence);
        const rtt = this.ntp.roundTripMs(now, report.lastSr, report.delaySinceLastSr);
        if (rtt === undefined) continue;
        estimate.onRoundTrip(rtt, now - rtt - (report.delaySinceLastSr * 1000) / 65536);
        const started = prober.startedAtMs;
        const queued = started === undefined ? undefined : estimate.queueDelaySince(started);
        if (prober.abandonIfQueued(queued)) this.logger.debug('downlink_probe_queued', { subscriberId, queueDelayMs: Math.round(queued ?? 0) });
      }
    }
  }

  /** Sender reports on each subscriber's video m-sections, when theirs are due. */
  private sendSenderReports(now: number): void {
    const { intervalMs, probingIntervalMs } = this.settings.senderReports;
    for (const [subscriberId, link] of this.links) {
      if (now < link.nextSenderReportsMs) continue;
      link.nextSenderReportsMs = now + (link.prober.paddingBps > 0 ? probingIntervalMs : intervalMs);
      const byMid = this.subscriptions.get(subscriberId);
      if (!byMid) continue;
      const ntp = this.ntp.write(now, this.ntpTime);
      for (const subscription of byMid.values()) {
        if (!subscription.open) continue;
        const report = subscription.senderReport(now, ntp);
        if (report) this.transport.send(subscriberId, subscription.spec.mid, report);
      }
    }
  }

  private attach(subscription: VideoSubscription, stream: IncomingVideoStream): void {
    subscription.attach(stream.spec.extensions);
    const chosen = this.serverAdapted.has(subscription.subscriberId) ? this.serverLayers : this.layerTargets;
    const target = chosen.get(subscription.subscriberId)?.get(stream.publisherId);
    if (target) subscription.setLayerTarget(target[0], target[1]);
    stream.subscriptions.add(subscription);
    // A track not open yet asks when it opens (subscriberTrackOpened): a keyframe sent before would be lost.
    if (subscription.open) stream.requestKeyframe(this.now());
  }

  private detach(subscription: VideoSubscription): void {
    this.streams.get(subscription.publisherId)?.subscriptions.delete(subscription);
  }

  /** Keeps a closed stream's counts in the totals. */
  private retire(stream: IncomingVideoStream): void {
    const r = this.retired;
    r.packetsIn += stream.counters.packetsIn;
    r.packetsDropped += stream.counters.packetsDropped;
    r.keyframeRequests += stream.keyframes.sent;
    r.missing += stream.nacks.stats.missing;
    r.recovered += stream.nacks.stats.recovered;
    r.nacks += stream.nacks.stats.nacksSent;
    r.givenUp += stream.nacks.stats.givenUp;
    stream.close();
  }
}
