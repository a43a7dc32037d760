import { MEETING_LIMITS, type Meeting } from '../../shared/chime-types.js';
import {
  encodeSignalFrame,
  SdkNotificationFrame_NotificationLevel,
  SdkServerSideNetworkAdaption,
  SdkSignalFrame_Type,
  SdkStreamMediaType,
  SdkVideoCodecCapability,
  serverFrame,
  type SdkDataMessageFrame,
  type SdkJoinFrame,
  type SdkSubscribeFrame,
} from '../../shared/signaling/frames.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { ChimeApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import { planAnswer } from '../media/peer/answer-planner.js';
import { OPUS_FRAME_MS } from '../media/audio/opus-output.js';
import { FrameClock } from '../media/frame-clock.js';
import { AudioMixer } from '../media/audio/audio-mixer.js';
import { createOpusDecoder, createOpusEncoder } from '../media/audio/opus-codec.js';
import { TickStats } from '../media/audio/tick-stats.js';
import type { VideoCodec } from '../media/video/keyframes.js';
import { MediaPeer, type IceConfig } from '../media/peer/media-peer.js';
import { parseSdp } from '../media/peer/sdp.js';
import { VideoRouter } from '../media/video/video-router.js';
import { DataMessageRelay, describeRejections, type DataMessageLimits } from './data-messages.js';
import type { Participant, SessionPort, VideoPublication } from './participant.js';
import type { RoomActivity } from './room-activity.js';
import { AUDIO_STATUS, CLOSE_CODES, SignalingProtocolError } from './signaling-errors.js';

export interface MeetingRoomDeps {
  service: MeetingService;
  ice: IceConfig;
  logger: Logger;
  createPeer?: (id: string) => MediaPeer;
  createMixer?: (logger: Logger) => AudioMixer;
  /** Presence and video changes, for event notifications. */
  activity?: RoomActivity;
  dataMessageLimits?: DataMessageLimits;
}

const defaultMixer = (logger: Logger): AudioMixer =>
  new AudioMixer({ codecs: { createEncoder: () => createOpusEncoder(), createDecoder: createOpusDecoder }, logger });

/** AUDIO_METADATA goes out every this many 20 ms ticks: 5 times a second. */
const METADATA_EVERY_TICKS = 10;
/** A tick later than this is logged (rate-limited). */
const LATE_TICK_MS = 10;
/** Mixer cost (tick time percentiles, encodes and decodes per tick) is logged at debug level this often. */
const MIXER_STATS_EVERY_TICKS = 250;

/** Default upper bounds on what a publisher may send, enforced with REMB. */
const CAMERA_MAX_KBPS = 1500;
const CONTENT_MAX_KBPS = 2500;
const REMB_EVERY_TICKS = 50;

const CODEC_CAPABILITY: Record<VideoCodec, SdkVideoCodecCapability> = {
  VP8: SdkVideoCodecCapability.VP8,
  H264: SdkVideoCodecCapability.H264_CONSTRAINED_BASELINE_PROFILE,
};

const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffffe);
const sendsVideo = (capability: string): boolean => capability === 'Send' || capability === 'SendReceive';

/**
 * One meeting's live state: who is connected, what each publishes and receives,
 * and the INDEX and presence frames that describe it to every client.
 * Sessions call in through methods; media is wired to the VideoRouter here.
 */
export class MeetingRoom {
  private readonly participants = new Map<string, Participant>();
  /** Attendees removed by DeleteAttendee; a socket they opened earlier must not JOIN afterwards. Ids are never reused. */
  private readonly removedAttendees = new Set<string>();
  private readonly router: VideoRouter;
  private nextStreamId = 1;
  private nextGroupId = 1;
  private clock: FrameClock | undefined;
  private ticks = 0;
  private readonly mixer: AudioMixer;
  private readonly dataMessages: DataMessageRelay;
  private readonly tickStats = new TickStats();
  private lateTicks = 0;
  private maxLateMs = 0;
  private lastLateLog = 0;
  private closed = false;

  constructor(
    readonly meeting: Meeting,
    private readonly deps: MeetingRoomDeps,
  ) {
    this.router = new VideoRouter((pid, mid, packet) => this.participants.get(pid)?.peer?.send(mid, packet) ?? false, deps.logger);
    this.mixer = (deps.createMixer ?? defaultMixer)(deps.logger);
    this.dataMessages = new DataMessageRelay(deps.dataMessageLimits);
  }

  get size(): number {
    return this.participants.size;
  }

  participant(id: string): Participant | undefined {
    return this.participants.get(id);
  }

  get routerStats() {
    return this.router.stats;
  }

  async join(session: SessionPort, identity: { attendee: Participant['attendee']; participantId: string; content: boolean }, join: SdkJoinFrame): Promise<Participant> {
    if (this.closed) throw new SignalingProtocolError(CLOSE_CODES.meetingEnded, 'The meeting has ended');
    if (this.removedAttendees.has(identity.attendee.AttendeeId)) {
      session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.attendeeRemoved }));
      throw new SignalingProtocolError(CLOSE_CODES.removed, 'Removed from the meeting');
    }
    const id = identity.participantId;
    const existing = this.participants.get(id);
    // The same audio_session_id is the same client reconnecting: it keeps its stream ids, so the
    // others' tiles and subscriptions carry on once it publishes again.
    const reconnected = existing && existing.audioSessionId === join.audioSessionId ? existing : undefined;
    if (existing) {
      if (!reconnected) existing.session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.joinedFromAnotherDevice }));
      existing.session.close(CLOSE_CODES.replaced, reconnected ? 'Reconnected' : 'Joined from another device');
      // A replaced content share hands its slot straight to its successor rather than releasing and re-claiming it.
      this.removeParticipant(existing, false, { silent: true, keepContentSlot: true, keepStreams: Boolean(reconnected) });
    }
    if (identity.content && !existing) {
      try {
        await this.deps.service.claimContentShare(this.meeting.MeetingId, identity.attendee.AttendeeId);
      } catch (error) {
        if (error instanceof ChimeApiError && error.exception === 'LimitExceededException') {
          session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.atCapacity }));
          throw new SignalingProtocolError(CLOSE_CODES.atCapacity, error.message);
        }
        throw error;
      }
    }

    const participant: Participant = {
      id,
      attendee: identity.attendee,
      content: identity.content,
      session,
      audioSessionId: join.audioSessionId,
      maxVideos: join.maxNumOfVideos,
      audioSsrc: randomSsrc(),
      audioStreamId: reconnected?.audioStreamId ?? this.nextStreamId++,
      muted: reconnected?.muted ?? false,
      publication: reconnected?.publication,
      videoSsrcs: new Map(),
      sendMids: new Set(),
      receivableCodecs: ['VP8', 'H264'],
    };
    this.participants.set(id, participant);
    this.deps.service.participantJoined(this.meeting.MeetingId, id);
    this.deps.logger.info('participant_joined', { meetingId: this.meeting.MeetingId, participantId: id });

    session.send(serverFrame.joinAck({
      videoSubscriptionLimit: MEETING_LIMITS.maxVideoPublishers,
      wantsCompressedSdp: false,
      defaultServerSideNetworkAdaption: SdkServerSideNetworkAdaption.NONE,
    }));
    session.send(this.indexFrame());
    // The first presence frame a session gets is a full snapshot, itself included.
    session.send(serverFrame.audioStreamIdInfo({ streams: [...this.participants.values()].map((p) => this.presenceEntry(p)) }));
    this.broadcast(serverFrame.audioStreamIdInfo({ streams: [this.presenceEntry(participant)] }), participant);
    const missed = this.dataMessages.replayFor(id, join.audioSessionId);
    if (missed.length > 0) session.send(serverFrame.dataMessage({ messages: missed }));
    if (!existing) this.deps.activity?.emit('joined', this.subject(participant));
    this.ensureClock();
    return participant;
  }

  async subscribe(participant: Participant, subscribe: SdkSubscribeFrame): Promise<void> {
    if (!this.isCurrent(participant)) return;
    const offer = parseSdp(subscribe.sdpOffer);
    if (!offer || offer.sections.length === 0) {
      throw new SignalingProtocolError(CLOSE_CODES.badRequest, 'SUBSCRIBE carries no usable SDP offer (compressed SDP is not negotiated)');
    }
    participant.muted = subscribe.audioMuted;
    const capability = participant.content ? participant.attendee.Capabilities.Content : participant.attendee.Capabilities.Video;
    const wantsVideo = subscribe.sendStreams.some((s) => s.mediaType === SdkStreamMediaType.VIDEO);
    const hasRoom = participant.publication !== undefined || participant.content || this.cameraCount() < MEETING_LIMITS.maxVideoPublishers;
    const meetingCodecs = this.meetingCodecs();

    const result = planAnswer({
      offer,
      receiveStreamIds: subscribe.receiveStreamIds.slice(0, this.maxReceiveSlots(participant, offer)),
      mayPublishVideo: wantsVideo && hasRoom && sendsVideo(capability),
      meetingCodecs,
      streamCodec: (streamId) => this.publicationByStream(streamId)?.publication?.codec,
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
    let answer: string;
    try {
      answer = await peer.answer(subscribe.sdpOffer, result.plan);
    } catch (error) {
      // libdatachannel refuses offers it cannot use (no ICE credentials, no fingerprint, ...): the client's fault.
      throw new SignalingProtocolError(CLOSE_CODES.badRequest, `SDP offer refused: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!this.isCurrent(participant)) return;

    if (result.plan.audio) participant.audioMid = result.plan.audio.mid;
    const codecsBefore = meetingCodecs.join();
    participant.receivableCodecs = result.receivableCodecs.length > 0 ? result.receivableCodecs : participant.receivableCodecs;
    const publicationsChanged = this.applyPublication(participant, result.publish, subscribe);
    participant.sendMids = new Set(result.subscriptions.map((s) => s.mid));
    this.router.setSubscriptions(participant.id, result.subscriptions.map((s) => ({
      mid: s.mid,
      streamId: s.streamId,
      payloadType: s.payloadType,
      ssrc: participant.videoSsrcs.get(s.mid)!,
      extensions: s.extensions,
    })));

    const publication = participant.publication;
    const suback = {
      duplex: subscribe.duplex,
      sdpAnswer: answer.replace(/\r?\n/g, '\r\n'),
      allocations: publication ? [{ trackLabel: 'AmazonChimeExpressVideo', streamId: publication.streamId, groupId: publication.groupId }] : [],
      tracks: result.subscriptions.map((s) => ({ streamId: s.streamId, ssrc: participant.videoSsrcs.get(s.mid)!, trackLabel: `v_${s.mid}` })),
    };
    // A refused camera rides on the frame's error status: 206 makes the client drop its local video and stay.
    participant.session.send(result.publishRefused && wantsVideo
      ? encodeSignalFrame({
        type: SdkSignalFrame_Type.SUBSCRIBE_ACK,
        suback,
        error: { status: AUDIO_STATUS.videoViewOnly, description: 'Video capacity reached: this meeting already has its maximum number of videos' },
      })
      : serverFrame.subscribeAck(suback));
    if (publicationsChanged || codecsBefore !== this.meetingCodecs().join()) this.broadcastIndex();
    if (result.plan.audio) this.joinMix(participant, peer, result.plan.audio);
  }

  /**
   * Puts the participant's audio into the mixer. It runs after SUBSCRIBE_ACK has gone out:
   * the answer must not wait for a decoder, since ICE checks are already under way.
   */
  private joinMix(participant: Participant, peer: MediaPeer, audio: NonNullable<ReturnType<typeof planAnswer>['plan']['audio']>): void {
    const send = (packet: Buffer): void => {
      if (peer.isTrackOpen(audio.mid)) peer.send(audio.mid, packet);
    };
    this.mixer
      .addMember(participant.id, { payloadType: audio.payloadType, ssrc: audio.ssrc, audioLevelExtensionId: audio.audioLevelExtensionId }, send)
      .then(() => {
        if (!this.isCurrent(participant)) this.mixer.removeMember(participant.id);
        else if (participant.muted) this.mixer.setMuted(participant.id, true);
      })
      .catch((error: unknown) => this.deps.logger.error('mixer_join_failed', { participantId: participant.id, error }));
  }

  /** DATA_MESSAGE: relayed to everyone else; throttled ones go back to the sender, invalid ones get a NOTIFICATION. */
  dataMessage(participant: Participant, frame: SdkDataMessageFrame): void {
    if (!this.isCurrent(participant)) return;
    const outcome = this.dataMessages.ingest({ participantId: participant.id, externalUserId: participant.attendee.ExternalUserId }, frame.messages);
    const last = outcome.relayed.at(-1);
    if (last) {
      const relayed = serverFrame.dataMessage({ messages: outcome.relayed });
      for (const p of this.participants.values()) {
        // A session already closing would lose the frame: it is not counted as seen, so its reconnect gets it replayed.
        if (p === participant || !p.session.isOpen) continue;
        p.session.send(relayed);
        this.dataMessages.delivered(p.id, p.audioSessionId, last.ingestTimeNs);
      }
    }
    if (outcome.throttled.length > 0) participant.session.send(serverFrame.dataMessage({ messages: outcome.throttled }));
    if (outcome.rejected.length > 0) {
      // A NOTIFICATION, not an error status: the SDK ends the session on any 4xx status, and a bad message must not do that.
      const message = describeRejections(outcome.rejected, frame.messages.length);
      participant.session.send(serverFrame.notification({ level: SdkNotificationFrame_NotificationLevel.ERROR, message }));
      this.deps.logger.debug('data_message_rejected', { participantId: participant.id, codes: outcome.rejected.map((r) => r.code) });
    }
  }

  setPaused(participant: Participant, streamIds: number[], paused: boolean): void {
    if (this.isCurrent(participant)) this.router.setPaused(participant.id, streamIds, paused);
  }

  setMuted(participant: Participant, muted: boolean): void {
    if (!this.isCurrent(participant) || participant.muted === muted) return;
    participant.muted = muted;
    this.mixer.setMuted(participant.id, muted);
    this.broadcast(serverFrame.audioStreamIdInfo({ streams: [{ audioStreamId: participant.audioStreamId, muted }] }));
  }

  /** A session ended: LEAVE (dropped=false) or a lost connection (dropped=true). */
  leave(participant: Participant, dropped: boolean): void {
    if (this.isCurrent(participant)) this.removeParticipant(participant, dropped, { silent: false });
  }

  /** DeleteAttendee: the attendee and its content share are told (411) and disconnected. */
  removeAttendee(attendeeId: string): void {
    this.removedAttendees.add(attendeeId);
    for (const p of [...this.participants.values()]) {
      if (p.attendee.AttendeeId !== attendeeId) continue;
      p.session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.attendeeRemoved }));
      p.session.close(CLOSE_CODES.removed, 'Removed from the meeting');
      this.removeParticipant(p, false, { silent: false });
    }
  }

  /** The meeting ended: everyone is told (410) and disconnected. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.participants.values()]) {
      p.session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.meetingEnded }));
      p.session.close(CLOSE_CODES.meetingEnded, 'The meeting has ended');
      p.peer?.close();
      if (p.publication) this.deps.activity?.emit('videoStopped', this.subject(p));
      this.deps.activity?.emit('left', { ...this.subject(p), dropped: false });
    }
    this.participants.clear();
    this.clock?.stop();
    this.router.close();
    this.mixer.close();
  }

  /**
   * How many video m-sections may carry a subscription: the limit JOIN_ACK announced, and the
   * client's own JOIN max_num_of_videos when it set one. Entries past it are answered inactive.
   */
  private maxReceiveSlots(participant: Participant, offer: NonNullable<ReturnType<typeof parseSdp>>): number {
    const limit = Math.min(MEETING_LIMITS.maxVideoPublishers, participant.maxVideos || MEETING_LIMITS.maxVideoPublishers);
    // receive_stream_ids holds one entry per video m-section, the camera first, so keep the camera's slot too.
    const videoSections = offer.sections.filter((s) => s.kind === 'video').length;
    return Math.min(videoSections, limit + 1);
  }

  private isCurrent(participant: Participant): boolean {
    return !this.closed && this.participants.get(participant.id) === participant;
  }

  private createPeer(participant: Participant): MediaPeer {
    const peer = this.deps.createPeer?.(participant.id) ?? new MediaPeer(`${this.meeting.MeetingId}/${participant.id}`, this.deps.ice, this.deps.logger);
    participant.peer = peer;
    peer.events.on('rtp', ({ mid, packet }) => {
      const publication = participant.publication;
      if (publication && mid === publication.mid) this.router.onPublisherRtp(publication.streamId, packet);
      else if (mid === participant.audioMid && this.isCurrent(participant)) this.mixer.onRtp(participant.id, packet);
    });
    peer.events.on('rtcp', ({ mid, packet }) => {
      if (participant.sendMids.has(mid)) this.router.onSubscriberRtcp(participant.id, mid, packet);
    });
    peer.events.on('trackOpen', ({ mid }) => {
      if (participant.sendMids.has(mid)) this.router.subscriberTrackOpened(participant.id, mid);
    });
    return peer;
  }

  /** Updates what `participant` publishes; returns whether the INDEX changed. */
  private applyPublication(participant: Participant, publish: ReturnType<typeof planAnswer>['publish'], subscribe: SdkSubscribeFrame): boolean {
    const previous = participant.publication;
    if (!publish) {
      if (!previous) return false;
      this.router.unpublish(previous.streamId);
      participant.publication = undefined;
      this.deps.activity?.emit('videoStopped', this.subject(participant));
      return true;
    }
    const descriptor = subscribe.sendStreams.find((s) => s.mediaType === SdkStreamMediaType.VIDEO);
    const cap = participant.content ? CONTENT_MAX_KBPS : CAMERA_MAX_KBPS;
    const maxBitrateKbps = Math.min(cap, descriptor?.maxBitrateKbps || cap);
    // A stream keeps its id while the same m-section keeps publishing; a new publication gets new ids,
    // and a higher group id, which is how the client tells the newest publication of an attendee.
    const same = previous && previous.mid === publish.mid;
    const publication: VideoPublication = {
      streamId: same ? previous.streamId : this.nextStreamId++,
      groupId: same ? previous.groupId : this.nextGroupId++,
      mid: publish.mid,
      codec: publish.codec,
      payloadType: publish.payloadType,
      ssrc: publish.ssrc,
      maxBitrateKbps,
    };
    if (previous && !same) this.router.unpublish(previous.streamId);
    participant.publication = publication;
    if (!previous) this.deps.activity?.emit('videoStarted', this.subject(participant));
    this.router.publish({
      streamId: publication.streamId,
      publisherId: participant.id,
      mid: publication.mid,
      codec: publication.codec,
      payloadType: publication.payloadType,
      ssrc: publication.ssrc,
      maxBitrateBps: maxBitrateKbps * 1000,
      extensions: publish.extensions,
    });
    return !same || previous.codec !== publication.codec || previous.maxBitrateKbps !== maxBitrateKbps;
  }

  private removeParticipant(
    participant: Participant,
    dropped: boolean,
    options: { silent: boolean; keepContentSlot?: boolean; keepStreams?: boolean },
  ): void {
    if (this.participants.get(participant.id) !== participant) return;
    this.participants.delete(participant.id);
    let removedStreams: number[] = [];
    if (options.keepStreams) {
      // Its subscribers stay attached to its stream; its successor re-publishes under the same id.
      this.router.setSubscriptions(participant.id, []);
    } else {
      removedStreams = this.router.removeParticipant(participant.id);
    }
    participant.peer?.close();
    this.mixer.removeMember(participant.id);
    this.deps.service.participantLeft(this.meeting.MeetingId, participant.id);
    if (participant.content && !options.keepContentSlot) {
      void this.deps.service.releaseContentShare(this.meeting.MeetingId, participant.attendee.AttendeeId).catch((error: unknown) =>
        this.deps.logger.error('content_release_failed', { participantId: participant.id, error }));
    }
    this.deps.logger.info('participant_left', { meetingId: this.meeting.MeetingId, participantId: participant.id, dropped });
    if (!options.silent) {
      this.broadcast(serverFrame.audioStreamIdInfo({ streams: [{ audioStreamId: participant.audioStreamId, dropped }] }));
      if (participant.publication && !options.keepStreams) this.deps.activity?.emit('videoStopped', this.subject(participant));
      this.deps.activity?.emit('left', { ...this.subject(participant), dropped });
    }
    if (removedStreams.length > 0) this.broadcastIndex();
    if (this.participants.size === 0) {
      this.clock?.stop();
      this.clock = undefined;
    }
  }

  private subject(p: Participant) {
    return { meeting: this.meeting, attendee: p.attendee, participantId: p.id, content: p.content };
  }

  private presenceEntry(p: Participant) {
    return {
      audioStreamId: p.audioStreamId,
      attendeeId: p.id,
      externalUserId: p.attendee.ExternalUserId,
      ...(p.muted ? { muted: true } : {}),
    };
  }

  private cameraCount(): number {
    let n = 0;
    for (const p of this.participants.values()) if (p.publication && !p.content) n++;
    return n;
  }

  private publicationByStream(streamId: number): Participant | undefined {
    for (const p of this.participants.values()) if (p.publication?.streamId === streamId) return p;
    return undefined;
  }

  /** Codecs every participant can receive, VP8 first; VP8 when nobody said. */
  private meetingCodecs(): VideoCodec[] {
    let codecs: VideoCodec[] = ['VP8', 'H264'];
    for (const p of this.participants.values()) codecs = codecs.filter((c) => p.receivableCodecs.includes(c));
    return codecs.length > 0 ? codecs : ['VP8'];
  }

  private indexFrame(): Uint8Array {
    const sources = [];
    for (const p of this.participants.values()) {
      const pub = p.publication;
      if (!pub) continue;
      sources.push({
        streamId: pub.streamId,
        groupId: pub.groupId,
        attendeeId: p.id,
        externalUserId: p.attendee.ExternalUserId,
        mediaType: SdkStreamMediaType.VIDEO,
        maxBitrateKbps: pub.maxBitrateKbps,
        avgBitrateBps: pub.maxBitrateKbps * 500,
        framerate: 15,
      });
    }
    return serverFrame.index({
      atCapacity: this.cameraCount() >= MEETING_LIMITS.maxVideoPublishers,
      sources,
      numParticipants: [...this.participants.values()].filter((p) => !p.content).length,
      supportedReceiveCodecIntersection: this.meetingCodecs().map((c) => CODEC_CAPABILITY[c]),
    });
  }

  private broadcastIndex(): void {
    this.broadcast(this.indexFrame());
  }

  private broadcast(frame: Uint8Array, except?: Participant): void {
    for (const p of this.participants.values()) if (p !== except) p.session.send(frame);
  }

  /** One 20 ms clock per meeting drives the mixer, AUDIO_METADATA and periodic REMB. */
  private ensureClock(): void {
    if (this.clock || this.closed) return;
    this.clock = new FrameClock(OPUS_FRAME_MS, (lateMs) => {
      try {
        this.noteLateness(lateMs);
        const started = performance.now();
        const report = this.mixer.tick();
        this.tickStats.record(performance.now() - started, report, lateMs);
        this.ticks++;
        if (this.ticks % MIXER_STATS_EVERY_TICKS === 0) {
          this.deps.logger.debug('mixer_stats', { meetingId: this.meeting.MeetingId, ...this.tickStats.take(this.mixer.size) });
        }
        if (this.ticks % METADATA_EVERY_TICKS === 0) this.broadcastAudioMetadata();
        if (this.ticks % REMB_EVERY_TICKS === 0) this.router.enforceBitrateCaps();
      } catch (error) {
        this.deps.logger.error('room_tick_failed', { meetingId: this.meeting.MeetingId, error });
      }
    });
  }

  /** Volumes for the SDK's indicators: dB below full scale per audio stream, muted flags, full signal strength. */
  private broadcastAudioMetadata(): void {
    const attendeeStates = [];
    for (const level of this.mixer.levels()) {
      const p = this.participants.get(level.id);
      if (!p) continue;
      attendeeStates.push({ audioStreamId: p.audioStreamId, volume: level.level, muted: level.muted, signalStrength: 2 });
    }
    if (attendeeStates.length > 0) this.broadcast(serverFrame.audioMetadata({ attendeeStates }));
  }

  /** Late ticks are counted and logged at most once a second; they are never skipped. */
  private noteLateness(lateMs: number): void {
    if (lateMs <= LATE_TICK_MS) return;
    this.lateTicks++;
    this.maxLateMs = Math.max(this.maxLateMs, lateMs);
    const now = performance.now();
    if (now - this.lastLateLog >= 1000) {
      this.deps.logger.warn('mixer_tick_late', { meetingId: this.meeting.MeetingId, lateTicks: this.lateTicks, maxLateMs: Math.round(this.maxLateMs) });
      this.lastLateLog = now;
      this.lateTicks = 0;
      this.maxLateMs = 0;
    }
  }
}
