import { TypedEmitter } from '../../shared/typed-emitter.js';
import { ChorusError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import { AudioMixer } from './audio/audio-mixer.js';
import { createOpusDecoder, createOpusEncoder } from './audio/opus-codec.js';
import { TickStats } from './audio/tick-stats.js';
import type { EgressBudget } from './bwe/egress-budget.js';
import { FrameClock, type Ticker } from './frame-clock.js';
import type { MediaSettings } from './media-settings.js';
import { planAnswer, type PlanResult, type PublishRefusal } from './peer/answer-planner.js';

export type { PublishRefusal };
import { MediaPeer, type IceConfig, type MediaPeerPort, type SendAudioSpec } from './peer/media-peer.js';
import type { ParsedSdp } from './peer/sdp.js';
import type { VideoCodec } from './video/codecs.js';
import { VideoRouter, type VideoPreferenceSpec, type VideoRouterStats } from './video/video-router.js';
import { NtpClock } from './rtp/ntp.js';
import type { LayerStructure } from './video/stream-layers.js';

/**
 * One meeting's media: every participant's WebRTC peer, the video router, the
 * audio mixer and the media clock that drives them. Keyed by participant id
 * (the attendee id, with `#content` for a content share). The signaling layer
 * drives it through methods and hears from it through typed events; it knows
 * nothing of stream ids, frames or sessions.
 */

export interface MeetingMediaOptions {
  /** Used in peer ids and logs: the meeting id. */
  id: string;
  ice: IceConfig;
  logger: Logger;
  clock: Clock;
  settings: MediaSettings;
  createPeer?: (id: string) => MediaPeerPort;
  createMixer?: (logger: Logger) => AudioMixer;
  /** The host's cap on all video it sends, shared by every meeting; none when absent. */
  egress?: EgressBudget;
  /** Starts the media clock; tests pass a manual ticker. */
  startTicker?: (periodMs: number, onTick: (lateMs: number) => void) => Ticker;
}

export interface AudioLevelReport {
  participantId: string;
  /** dBov: 0 loud, 127 silent. */
  level: number;
  muted: boolean;
}

export interface MeetingMediaEvents extends Record<string, unknown> {
  /** A participant's peer failed or closed on its own (ICE failure, DTLS closed): its media is gone. */
  peerFailed: { participantId: string; state: string; hadPublication: boolean };
  /** Every participant's audio level, audioMetadataIntervalMs apart. */
  audioLevels: { levels: AudioLevelReport[] };
  /** Measured video rates and every participant's downlink estimate, bitratesIntervalMs apart. */
  videoBitrates: VideoBitratesReport;
  /** The server stopped or restarted sending `participantId` these publishers' videos, to fit its downlink. */
  videoPausedByServer: { participantId: string; paused: string[]; resumed: string[] };
  /** `participantId`'s SVC video showed new layers (or resolutions): subscribers choose among them in INDEX. */
  videoLayersChanged: { participantId: string };
}

export interface VideoBitratesReport {
  /** What each publisher's video has carried lately, in bps. */
  streams: { publisherId: string; bps: number }[];
  /** What the server may send each participant, in bps (its REMB, cut by loss); 0 while unknown. */
  downlinks: { participantId: string; bps: number }[];
}

export interface NegotiateInput {
  offerSdp: string;
  offer: ParsedSdp;
  /** One entry per video m-section of the offer: the publisher it should carry, or undefined. */
  receive: readonly (string | undefined)[];
  /** Whether the participant may publish video now (capacity, capabilities, what it asked for). */
  mayPublishVideo: boolean;
  /** Cap on what it may send, enforced with REMB. */
  publishMaxBitrateBps: number;
  /** Codecs every participant can receive, in order of preference. */
  meetingCodecs: VideoCodec[];
  muted: boolean;
  /** What its capabilities allow it (UpdateAttendeeCapabilities): audio into the mix, the mix to it, video to it. */
  allowed: MediaPermissions;
}

/** What an attendee's capabilities let the media layer do with it. Publishing video is decided per negotiation. */
export interface MediaPermissions {
  /** Its audio goes into the mix (Audio Send or SendReceive). */
  sendAudio: boolean;
  /** It receives the mix (Audio Receive or SendReceive). */
  receiveAudio: boolean;
  /** It receives video (Video Receive or SendReceive). */
  receiveVideo: boolean;
  /** It may keep publishing video (Video, or Content for a share, Send or SendReceive). */
  sendVideo: boolean;
}

export interface NegotiateResult {
  answerSdp: string;
  /** What the participant now publishes (undefined: no video). */
  published?: { mid: string; codec: VideoCodec };
  /** It offered video but may not publish it now (the answer refused that m-section), and why. */
  publishRefusal?: PublishRefusal;
  /** The videos it now receives: our SSRC on each mid. */
  subscriptions: { mid: string; publisherId: string; ssrc: number }[];
  /** Video codecs its offer can receive. */
  receivableCodecs: VideoCodec[];
}

/** A participant's media state; replaced (never reused) when its session is replaced. */
interface ParticipantMedia {
  id: string;
  peer?: MediaPeerPort;
  audioMid?: string;
  /** The SSRC of the mixed audio we send it, stable across renegotiations. */
  audioSsrc: number;
  /** Our SSRC per mid we send it video on, stable across renegotiations. */
  videoSsrcs: Map<string, number>;
  /** Mids on which we send it video. */
  sendMids: Set<string>;
  /** The mid it publishes video on. */
  publishMid?: string;
  /** The ICE ufrag and DTLS fingerprint of the client connection its peer answers. */
  remoteTransport?: string;
  muted: boolean;
  allowed: MediaPermissions;
}

const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffffe);

const defaultMixer = (logger: Logger): AudioMixer =>
  new AudioMixer({ codecs: { createEncoder: () => createOpusEncoder(), createDecoder: createOpusDecoder }, logger });

export class MeetingMedia {
  readonly events: TypedEmitter<MeetingMediaEvents>;
  private readonly participants = new Map<string, ParticipantMedia>();
  private readonly router: VideoRouter;
  private readonly mixer: AudioMixer;
  private readonly tickStats = new TickStats();
  private ticker: Ticker | undefined;
  private ticks = 0;
  private lateTicks = 0;
  private maxLateMs = 0;
  private lastLateLog = -Infinity;
  private closed = false;

  constructor(private readonly options: MeetingMediaOptions) {
    const { logger, clock, settings } = options;
    this.events = new TypedEmitter((error, event) => logger.error('media_listener_failed', { event: String(event), error }));
    this.router = new VideoRouter(
      { send: (participantId, mid, packet) => this.participants.get(participantId)?.peer?.send(mid, packet) ?? false },
      settings.video,
      logger,
      () => clock.monotonic(),
      { layersChanged: (participantId) => this.events.emit('videoLayersChanged', { participantId }) },
      options.egress && { budget: options.egress, scope: options.id },
      new NtpClock(clock.now() - clock.monotonic()),
    );
    this.mixer = (options.createMixer ?? defaultMixer)(logger);
  }

  get size(): number {
    return this.participants.size;
  }

  get videoStats(): VideoRouterStats {
    return this.router.stats;
  }

  /** How many videos the server sends `participantId` (its negotiated receive m-sections). */
  videosSentTo(participantId: string): number {
    return this.participants.get(participantId)?.sendMids.size ?? 0;
  }

  /** The codec `participantId` publishes video in, if it publishes. */
  publisherCodec(participantId: string): VideoCodec | undefined {
    return this.router.publisherCodec(participantId);
  }

  /**
   * Answers a (re-)offer: creates the participant's peer when it has none (first
   * SUBSCRIBE, or its last peer failed), plans and applies the answer, and
   * updates what it publishes and receives. Its audio joins the mix just after,
   * so the answer never waits for a decoder.
   */
  async negotiate(participantId: string, input: NegotiateInput): Promise<NegotiateResult> {
    if (this.closed) throw new ChorusError('CLOSED', 'The meeting has ended');
    let state = this.participants.get(participantId);
    if (!state) {
      state = { id: participantId, audioSsrc: randomSsrc(), videoSsrcs: new Map(), sendMids: new Set(), muted: input.muted, allowed: input.allowed };
      this.participants.set(participantId, state);
    }
    state.muted = input.muted;
    state.allowed = input.allowed;
    const participant = state;
    // A different ICE ufrag and fingerprint is a new client PeerConnection (it restarted after
    // a failure): libdatachannel cannot take it on the old peer, so the old one is retired first.
    const transport = `${input.offer.iceUfrag ?? ''} ${input.offer.fingerprint ?? ''}`;
    if (participant.peer && participant.remoteTransport !== undefined && participant.remoteTransport !== transport) {
      const old = participant.peer;
      this.peerFailed(participant, 'replaced');
      old.close();
    }
    participant.remoteTransport = transport;
    const plan = planAnswer({
      offer: input.offer,
      receive: input.allowed.receiveVideo ? input.receive : [],
      mayPublishVideo: input.mayPublishVideo && input.allowed.sendVideo,
      meetingCodecs: input.meetingCodecs,
      sourceCodec: (publisherId) => this.router.publisherCodec(publisherId),
      ssrcForMid: (mid) => {
        let ssrc = participant.videoSsrcs.get(mid);
        if (ssrc === undefined) {
          ssrc = randomSsrc();
          participant.videoSsrcs.set(mid, ssrc);
        }
        return ssrc;
      },
      audioSsrc: participant.audioSsrc,
    });
    const peer = participant.peer ?? this.createPeer(participant);
    let answerSdp: string;
    try {
      answerSdp = await peer.answer(input.offerSdp, plan.plan);
    } catch (error) {
      // libdatachannel refuses offers it cannot use (no ICE credentials, no fingerprint, ...): the client's fault.
      throw new ChorusError('OFFER_REFUSED', `SDP offer refused: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (this.closed) throw new ChorusError('CLOSED', 'The meeting has ended');
    if (this.participants.get(participantId) !== participant || participant.peer !== peer) {
      throw new ChorusError('GONE', 'The participant left or its peer failed while its offer was answered');
    }
    this.applyPublication(participant, plan, input.publishMaxBitrateBps);
    participant.sendMids = new Set(plan.subscriptions.map((s) => s.mid));
    this.router.setSubscriptions(participantId, plan.subscriptions.map((s) => ({
      mid: s.mid,
      publisherId: s.publisherId,
      payloadType: s.payloadType,
      ssrc: participant.videoSsrcs.get(s.mid)!,
      extensions: s.extensions,
    })));
    // libdatachannel keeps a mid's native track across renegotiations: one already open says so now, not by event.
    for (const s of plan.subscriptions) if (peer.isTrackOpen(s.mid)) this.router.subscriberTrackOpened(participantId, s.mid);
    if (plan.plan.audio) {
      const audio = plan.plan.audio;
      participant.audioMid = audio.mid;
      setImmediate(() => this.joinMix(participant, peer, audio));
    }
    this.ensureClock();
    return {
      answerSdp,
      published: plan.publish ? { mid: plan.publish.mid, codec: plan.publish.codec } : undefined,
      publishRefusal: plan.publishRefusal,
      subscriptions: plan.subscriptions.map((s) => ({ mid: s.mid, publisherId: s.publisherId, ssrc: participant.videoSsrcs.get(s.mid)! })),
      receivableCodecs: plan.receivableCodecs,
    };
  }

  /** PAUSE/RESUME: `subscriberId` stops or resumes receiving these publishers' video. */
  setPaused(subscriberId: string, publisherIds: readonly string[], paused: boolean): void {
    this.router.setPaused(subscriberId, publisherIds, paused);
  }

  setMuted(participantId: string, muted: boolean): void {
    const state = this.participants.get(participantId);
    if (!state) return;
    state.muted = muted;
    this.mixer.setMuted(participantId, muted || !state.allowed.sendAudio);
  }

  /**
   * Applies changed capabilities at once: audio that may not be sent leaves the mix
   * (whatever the client says of its mute), the mix stops going to who may not receive
   * it, video to who may not receive it stops, and a publisher that may no longer send
   * stops being forwarded. Returns whether its publication ended.
   */
  setPermissions(participantId: string, allowed: MediaPermissions): { publicationEnded: boolean } {
    const state = this.participants.get(participantId);
    if (!state) return { publicationEnded: false };
    state.allowed = allowed;
    this.mixer.setMuted(participantId, state.muted || !allowed.sendAudio);
    if (!allowed.receiveVideo && state.sendMids.size > 0) {
      this.router.setSubscriptions(participantId, []);
      state.sendMids = new Set();
    }
    if (!allowed.sendVideo && this.router.hasPublication(participantId)) {
      this.router.unpublish(participantId);
      state.publishMid = undefined;
      return { publicationEnded: true };
    }
    return { publicationEnded: false };
  }

  /**
   * Ends a participant's media: its peer closes, its audio leaves the mix, and it
   * receives nothing. With keepPublication (the same client reconnecting), its
   * video's subscribers stay attached and resume when it publishes again.
   */
  removeParticipant(participantId: string, options: { keepPublication?: boolean } = {}): void {
    const state = this.participants.get(participantId);
    if (!state) return;
    this.participants.delete(participantId);
    this.router.removeParticipant(participantId, options);
    this.mixer.removeMember(participantId);
    state.peer?.close();
    if (this.participants.size === 0) this.stopClock();
  }

  /** Ends every participant's media. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopClock();
    for (const state of this.participants.values()) state.peer?.close();
    this.participants.clear();
    this.router.close();
    this.mixer.close();
    this.events.removeAllListeners();
  }

  private createPeer(participant: ParticipantMedia): MediaPeerPort {
    const peerId = `${this.options.id}/${participant.id}`;
    const peer = this.options.createPeer?.(participant.id) ?? new MediaPeer(peerId, this.options.ice, this.options.logger);
    participant.peer = peer;
    const current = (): boolean => !this.closed && participant.peer === peer && this.participants.get(participant.id) === participant;
    peer.events.on('rtp', ({ mid, packet }) => {
      if (mid === participant.publishMid) this.router.onPublisherRtp(participant.id, packet);
      else if (mid === participant.audioMid && current()) this.mixer.onRtp(participant.id, packet);
    });
    // Every m-section's RTCP: REMB concerns the whole connection and may arrive on any of them.
    peer.events.on('rtcp', ({ mid, packet }) => {
      if (current()) this.router.onSubscriberRtcp(participant.id, mid, packet);
    });
    peer.events.on('trackOpen', ({ mid }) => {
      if (participant.sendMids.has(mid)) this.router.subscriberTrackOpened(participant.id, mid);
    });
    peer.events.on('state', ({ state }) => {
      if ((state === 'failed' || state === 'closed') && current()) this.peerFailed(participant, state);
    });
    return peer;
  }

  /** The peer died under a live session: drop its media so a later SUBSCRIBE starts afresh, and say so. */
  private peerFailed(participant: ParticipantMedia, state: string): void {
    const hadPublication = participant.publishMid !== undefined;
    this.options.logger.info('media_peer_failed', { meetingId: this.options.id, participantId: participant.id, state });
    this.router.removeParticipant(participant.id);
    this.mixer.removeMember(participant.id);
    participant.peer = undefined;
    participant.publishMid = undefined;
    participant.audioMid = undefined;
    participant.sendMids = new Set();
    this.events.emit('peerFailed', { participantId: participant.id, state, hadPublication });
  }

  private applyPublication(participant: ParticipantMedia, plan: PlanResult, maxBitrateBps: number): void {
    const publish = plan.publish;
    if (!publish) {
      if (participant.publishMid !== undefined) this.router.unpublish(participant.id);
      participant.publishMid = undefined;
      return;
    }
    const current = this.router.publication(participant.id);
    participant.publishMid = publish.mid;
    // A renegotiation that changes nothing about the publication keeps the stream (and its subscribers' state).
    if (current && current.mid === publish.mid && current.ssrc === publish.ssrc && current.payloadType === publish.payloadType && current.codec === publish.codec) {
      current.maxBitrateBps = maxBitrateBps;
      return;
    }
    this.router.publish(participant.id, {
      mid: publish.mid,
      codec: publish.codec,
      payloadType: publish.payloadType,
      ssrc: publish.ssrc,
      maxBitrateBps,
      extensions: publish.extensions,
    });
  }

  private joinMix(participant: ParticipantMedia, peer: MediaPeerPort, audio: SendAudioSpec): void {
    if (participant.peer !== peer || this.participants.get(participant.id) !== participant) return;
    this.mixer
      .addMember(participant.id, { payloadType: audio.payloadType, ssrc: audio.ssrc, audioLevelExtensionId: audio.audioLevelExtensionId, redPayloadType: audio.redPayloadType }, (packet) => {
        if (participant.allowed.receiveAudio) peer.send(audio.mid, packet);
      })
      .then(() => {
        if (participant.peer !== peer || this.participants.get(participant.id) !== participant) this.mixer.removeMember(participant.id);
        else if (participant.muted || !participant.allowed.sendAudio) this.mixer.setMuted(participant.id, true);
      })
      .catch((error: unknown) => this.options.logger.error('mixer_join_failed', { participantId: participant.id, error }));
  }

  private ensureClock(): void {
    if (this.ticker || this.closed) return;
    const { frameMs } = this.options.settings;
    const start = this.options.startTicker ?? ((period, onTick) => new FrameClock(period, onTick, this.options.clock));
    this.ticker = start(frameMs, (lateMs) => this.tick(lateMs));
  }

  private stopClock(): void {
    this.ticker?.stop();
    this.ticker = undefined;
  }

  /** One media-clock tick: the mix, video upkeep, and now and then volumes and cost figures. */
  private tick(lateMs: number): void {
    const { settings, logger, clock } = this.options;
    try {
      this.noteLateness(lateMs);
      const started = clock.monotonic();
      const report = this.mixer.tick();
      this.tickStats.record(clock.monotonic() - started, report, lateMs);
      this.router.tick();
      this.ticks++;
      if (this.ticks % Math.round(settings.mixerStatsIntervalMs / settings.frameMs) === 0) {
        logger.debug('mixer_stats', { meetingId: this.options.id, ...this.tickStats.take(this.mixer.size) });
      }
      if (this.ticks % Math.round(settings.audioMetadataIntervalMs / settings.frameMs) === 0) {
        const levels = this.mixer.levels().map((l) => ({ participantId: l.id, level: l.level, muted: l.muted }));
        if (levels.length > 0) this.events.emit('audioLevels', { levels });
      }
      if (this.ticks % Math.max(1, Math.round(settings.allocationIntervalMs / settings.frameMs)) === 0) this.allocateDownlinks();
      if (this.ticks % Math.max(1, Math.round(settings.bitratesIntervalMs / settings.frameMs)) === 0) this.reportBitrates();
    } catch (error) {
      logger.error('media_tick_failed', { meetingId: this.options.id, error });
    }
  }

  /** Moves every subscriber's downlink figure and fits its videos to it (pausing, resuming, judging probes). */
  private allocateDownlinks(): void {
    this.router.updateDownlinks();
    // Content shares first, then publishers in the order they joined.
    const order = [...this.participants.keys()];
    const rank = (id: string) => (id.endsWith('#content') ? -1 : order.indexOf(id));
    for (const change of this.router.allocateDownlinks(rank)) {
      this.events.emit('videoPausedByServer', { participantId: change.subscriberId, paused: change.paused, resumed: change.resumed });
    }
  }

  private reportBitrates(): void {
    const streams: VideoBitratesReport['streams'] = [];
    const downlinks: VideoBitratesReport['downlinks'] = [];
    for (const id of this.participants.keys()) {
      if (this.router.hasPublication(id)) streams.push({ publisherId: id, bps: this.router.streamBitrateBps(id) });
      downlinks.push({ participantId: id, bps: this.router.downlinkEstimateBps(id) });
    }
    this.options.logger.debug('video_bitrates', {
      meetingId: this.options.id,
      streams: streams.map((x) => `${x.publisherId}:${Math.round(x.bps / 1000)}`),
      downlinks: downlinks.map((d) => {
        const signals = this.router.downlinkSignals(d.participantId);
        return signals
          ? `${d.participantId}:${Math.round(d.bps / 1000)} remb=${Math.round(signals.rembBps / 1000)} sent=${Math.round(signals.sentBps / 1000)} loss=${signals.lossFraction.toFixed(2)}${signals.holding ? ' hold' : ''}`
          : `${d.participantId}:-`;
      }),
    });
    this.events.emit('videoBitrates', { streams, downlinks });
  }

  /** `publisherId`'s SVC layers, once its packets showed them; undefined for a single-layer video. */
  videoLayers(publisherId: string): LayerStructure | undefined {
    return this.router.layersOf(publisherId);
  }

  /** What a subscriber taking `publisherId`'s layers up to (spatial, temporal) receives, bps. */
  layerBitrateBps(publisherId: string, spatial: number, temporal: number): number {
    return this.router.layerBitrateBps(publisherId, spatial, temporal);
  }

  /** Whether the server chooses `participantId`'s video layers and pauses (server-side network adaptation). */
  setServerAdaptation(participantId: string, on: boolean): void {
    this.router.setServerAdaptation(participantId, on);
  }

  /** `subscriberId`'s VideoPreferences by publisher (merged over earlier ones unless `replace`). */
  setVideoPreferences(subscriberId: string, preferences: ReadonlyMap<string, VideoPreferenceSpec>, replace: boolean): void {
    this.router.setPreferences(subscriberId, preferences, replace);
  }

  /** `subscriberId` takes `publisherId`'s SVC video up to these layers (it chose a layer's stream in INDEX). */
  setVideoLayers(subscriberId: string, publisherId: string, spatial: number, temporal: number): void {
    this.router.setLayerTarget(subscriberId, publisherId, spatial, temporal);
  }

  /** What `publisherId`'s video has carried lately, in bps (0 when it publishes nothing). */
  streamBitrateBps(publisherId: string): number {
    return this.router.streamBitrateBps(publisherId);
  }

  /** Late ticks are counted and logged at most once a second; they are never skipped. */
  private noteLateness(lateMs: number): void {
    if (lateMs <= this.options.settings.lateTickMs) return;
    this.lateTicks++;
    this.maxLateMs = Math.max(this.maxLateMs, lateMs);
    const now = this.options.clock.monotonic();
    if (now - this.lastLateLog >= 1000) {
      this.options.logger.warn('mixer_tick_late', { meetingId: this.options.id, lateTicks: this.lateTicks, maxLateMs: Math.round(this.maxLateMs) });
      this.lastLateLog = now;
      this.lateTicks = 0;
      this.maxLateMs = 0;
    }
  }
}
