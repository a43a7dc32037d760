import { capabilityReceives, capabilitySends, MEETING_LIMITS, type Attendee, type Meeting } from '../../shared/chime-types.js';
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
  type SdkRemoteVideoUpdateFrame,
  type SdkSubscribeFrame,
  type SdkVideoSubscriptionConfiguration,
} from '../../shared/signaling/frames.js';
import type { MeetingService } from '../control-plane/meeting-service.js';
import { DEFAULT_SIGNALING_LIMITS } from '../defaults.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { ChimeApiError, ChorusError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AudioLevelReport, MediaPermissions, MeetingMedia, NegotiateResult, PublishRefusal, VideoBitratesReport } from '../media/meeting-media.js';
import type { VideoPreferenceSpec } from '../media/video/video-router.js';
import { parseSdp } from '../media/peer/sdp.js';
import { VIDEO_CODECS, type VideoCodec } from '../media/video/codecs.js';
import { DataMessageRelay, describeRejections, type DataMessageLimits } from './data-messages.js';
import type { Participant, SessionPort, VideoPublication } from './participant.js';
import type { RoomActivity } from './room-activity.js';
import { inBlock, layersOfStream, layerStreams, STREAM_ID_BLOCK } from './video-layer-streams.js';
import { AUDIO_STATUS, CLOSE_CODES, SignalingProtocolError } from './signaling-errors.js';

export interface MeetingRoomDeps {
  service: MeetingService;
  logger: Logger;
  /** The meeting's media layer (peers, video router, mixer); the room owns and closes it. */
  media: MeetingMedia;
  /** Upper bounds on what a publisher may send, in kbps (a client may ask for less). */
  publishCaps: { cameraMaxKbps: number; contentMaxKbps: number };
  /** Presence and video changes, for event notifications. */
  activity?: RoomActivity;
  dataMessageLimits?: DataMessageLimits;
  /** Timers of the coalesced presence broadcasts (default: the system clock). */
  clock?: Clock;
  /** Presence (mute) changes go out at most this often (default DEFAULT_SIGNALING_LIMITS.presenceIntervalMs). */
  presenceIntervalMs?: number;
}

/** How INDEX names each codec in supported_receive_codec_intersection (the SDK's VideoCodecCapability.fromSignaled). */
const CODEC_CAPABILITY: Record<VideoCodec, SdkVideoCodecCapability> = {
  VP8: SdkVideoCodecCapability.VP8,
  H264: SdkVideoCodecCapability.H264_CONSTRAINED_BASELINE_PROFILE,
  H264_HIGH: SdkVideoCodecCapability.H264_HIGH_PROFILE,
  VP9: SdkVideoCodecCapability.VP9_PROFILE_0,
  AV1: SdkVideoCodecCapability.AV1_MAIN_PROFILE,
};

/** What a participant's attendee capabilities allow its media (a content share publishes under Content). */
function permissionsOf(participant: Participant): MediaPermissions {
  const caps = participant.attendee.Capabilities;
  return {
    sendAudio: capabilitySends(caps.Audio),
    receiveAudio: capabilityReceives(caps.Audio),
    receiveVideo: capabilityReceives(caps.Video),
    sendVideo: capabilitySends(participant.content ? caps.Content : caps.Video),
  };
}

/**
 * One meeting's signaling state: who is connected, the stream ids of what each
 * publishes, and the INDEX, presence, volume and data-message frames that
 * describe it to every client. Sessions call in through methods; it translates
 * them into MeetingMedia calls and MeetingMedia's events into frames.
 */
/** The client asked for server-side network adaptation with video quality adaptation (Chime's mode 4), and supports it. */
function wantsServerAdaptation(join: SdkJoinFrame): boolean {
  const mode = SdkServerSideNetworkAdaption.BANDWIDTH_PROBING_AND_VIDEO_QUALITY_ADAPTION;
  return join.serverSideNetworkAdaption === mode && join.supportedServerSideNetworkAdaptions.includes(mode);
}

/** The frame rate INDEX gives every camera: Chime's 15 fps. */
const STREAM_FRAMERATE = 15;

/** What the SUBSCRIBE_ACK that refuses a camera tells the client (the SDK logs it). */
function refusalDescription(refusal: PublishRefusal): string {
  switch (refusal) {
    case 'not-allowed':
      return 'Video capacity reached: this meeting already has its maximum number of videos';
    case 'rid-simulcast':
      return 'This server cannot receive simulcast video (enableSimulcastForUnifiedPlanChromiumBasedBrowsers): '
        + 'join without it, or with enableSVC for layered video';
    default: {
      const unknown: never = refusal;
      return unknown;
    }
  }
}

export class MeetingRoom {
  private readonly participants = new Map<string, Participant>();
  /** Attendees removed by DeleteAttendee; a socket they opened earlier must not JOIN afterwards. Ids are never reused. */
  private readonly removedAttendees = new Set<string>();
  private readonly media: MeetingMedia;
  private nextStreamId = 1;
  private nextGroupId = 1;
  private readonly dataMessages: DataMessageRelay;
  private closed = false;
  /** Participants whose shown mute changed since the last presence broadcast. */
  private readonly presenceChanged = new Set<string>();
  private presenceTimer: unknown;
  private lastPresenceAt = -Infinity;
  private readonly clock: Clock;

  constructor(
    readonly meeting: Meeting,
    private readonly deps: MeetingRoomDeps,
  ) {
    this.media = deps.media;
    this.clock = deps.clock ?? systemClock;
    this.dataMessages = new DataMessageRelay(deps.dataMessageLimits);
    this.media.events.on('audioLevels', ({ levels }) => this.broadcastAudioMetadata(levels));
    this.media.events.on('peerFailed', ({ participantId }) => this.peerFailed(participantId));
    this.media.events.on('videoBitrates', (report) => this.sendBitrates(report));
    this.media.events.on('videoPausedByServer', (change) => this.sendServerPauses(change));
    this.media.events.on('videoLayersChanged', ({ participantId }) => {
      this.deps.logger.info('video_layers', { meetingId: this.meeting.MeetingId, participantId, layers: this.media.videoLayers(participantId) });
      this.broadcastIndex();
    });
  }

  get size(): number {
    return this.participants.size;
  }

  participant(id: string): Participant | undefined {
    return this.participants.get(id);
  }

  /** How many videos the server sends this participant. */
  videosSentTo(participantId: string): number {
    return this.media.videosSentTo(participantId);
  }

  /** The video path's counters (packets in, forwarded, retransmitted, upstream loss repaired). */
  get videoStats() {
    return this.media.videoStats;
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
      audioStreamId: reconnected?.audioStreamId ?? this.nextStreamId++,
      muted: reconnected?.muted ?? false,
      publication: reconnected?.publication,
      // Until its first offer says what it decodes, a participant is assumed to decode everything.
      receivableCodecs: reconnected?.receivableCodecs ?? [...VIDEO_CODECS],
      wantsTemporalLayers: join.wantsAllTemporalLayersInIndex,
      serverAdaptation: wantsServerAdaptation(join),
      chosenStreams: reconnected?.chosenStreams ?? new Map(),
    };
    this.participants.set(id, participant);
    this.deps.service.participantJoined(this.meeting.MeetingId, id);
    this.deps.logger.info('participant_joined', { meetingId: this.meeting.MeetingId, participantId: id });

    session.send(serverFrame.joinAck({
      videoSubscriptionLimit: MEETING_LIMITS.maxVideoPublishers,
      wantsCompressedSdp: false,
      // Granted when asked for (the SDK's VideoPriorityBasedPolicy asks by default): the server then chooses
      // layers and pauses from its estimate and the client's preferences. Anything else runs in client mode.
      defaultServerSideNetworkAdaption: participant.serverAdaptation ? SdkServerSideNetworkAdaption.BANDWIDTH_PROBING_AND_VIDEO_QUALITY_ADAPTION : SdkServerSideNetworkAdaption.NONE,
    }));
    this.media.setServerAdaptation(id, participant.serverAdaptation);
    session.send(this.indexFrame(participant.wantsTemporalLayers));
    // The first presence frame a session gets is a full snapshot, itself included.
    session.send(serverFrame.audioStreamIdInfo({ streams: [...this.participants.values()].map((p) => this.presenceEntry(p)) }));
    this.broadcast(serverFrame.audioStreamIdInfo({ streams: [this.presenceEntry(participant)] }), participant);
    const missed = this.dataMessages.replayFor(id, join.audioSessionId);
    if (missed.length > 0) session.send(serverFrame.dataMessage({ messages: missed }));
    if (!existing) this.deps.activity?.emit('joined', this.subject(participant));
    return participant;
  }

  async subscribe(participant: Participant, subscribe: SdkSubscribeFrame): Promise<void> {
    if (!this.isCurrent(participant)) return;
    const offer = parseSdp(subscribe.sdpOffer);
    if (!offer || offer.sections.length === 0) {
      throw new SignalingProtocolError(CLOSE_CODES.badRequest, 'SUBSCRIBE carries no usable SDP offer (compressed SDP is not negotiated)');
    }
    participant.muted = subscribe.audioMuted;
    const allowed = permissionsOf(participant);
    const wantsVideo = subscribe.sendStreams.some((s) => s.mediaType === SdkStreamMediaType.VIDEO);
    const hasRoom = participant.publication !== undefined || participant.content || this.cameraCount() < MEETING_LIMITS.maxVideoPublishers;
    const meetingCodecs = this.meetingCodecs();
    const descriptor = subscribe.sendStreams.find((s) => s.mediaType === SdkStreamMediaType.VIDEO);
    const cap = participant.content ? this.deps.publishCaps.contentMaxKbps : this.deps.publishCaps.cameraMaxKbps;
    const maxBitrateKbps = Math.min(cap, descriptor?.maxBitrateKbps || cap);

    let result: NegotiateResult;
    try {
      result = await this.media.negotiate(participant.id, {
        offerSdp: subscribe.sdpOffer,
        offer,
        receive: subscribe.receiveStreamIds.slice(0, this.maxReceiveSlots(participant, offer)).map((streamId) => this.publisherOfStream(streamId)),
        mayPublishVideo: wantsVideo && hasRoom && allowed.sendVideo,
        publishMaxBitrateBps: maxBitrateKbps * 1000,
        meetingCodecs,
        muted: participant.muted,
        allowed,
      });
    } catch (error) {
      if (error instanceof ChorusError && error.code === 'OFFER_REFUSED') throw new SignalingProtocolError(CLOSE_CODES.badRequest, error.message);
      // The session or the meeting went away while the offer was answered: nothing left to tell.
      if (error instanceof ChorusError && (error.code === 'GONE' || error.code === 'CLOSED')) return;
      throw error;
    }
    if (!this.isCurrent(participant)) return;

    this.chooseLayers(participant, subscribe.receiveStreamIds);
    this.notePreferences(participant, subscribe.videoSubscriptionConfiguration, true);
    const codecsBefore = meetingCodecs.join();
    participant.receivableCodecs = result.receivableCodecs.length > 0 ? result.receivableCodecs : participant.receivableCodecs;
    const publicationsChanged = this.applyPublication(participant, result.published, maxBitrateKbps);

    const publication = participant.publication;
    const suback = {
      duplex: subscribe.duplex,
      sdpAnswer: result.answerSdp.replace(/\r?\n/g, '\r\n'),
      allocations: publication ? [{ trackLabel: 'AmazonChimeExpressVideo', streamId: publication.streamId, groupId: publication.groupId }] : [],
      tracks: result.subscriptions.map((s) => ({
        streamId: participant.chosenStreams.get(s.publisherId) ?? this.participants.get(s.publisherId)?.publication?.streamId ?? 0,
        ssrc: s.ssrc,
        trackLabel: `v_${s.mid}`,
      })),
    };
    // A refused camera rides on the frame's error status: 206 makes the client drop its local video and stay.
    participant.session.send(result.publishRefusal !== undefined && wantsVideo
      ? encodeSignalFrame({
        type: SdkSignalFrame_Type.SUBSCRIBE_ACK,
        suback,
        error: { status: AUDIO_STATUS.videoViewOnly, description: refusalDescription(result.publishRefusal) },
      })
      : serverFrame.subscribeAck(suback));
    if (publicationsChanged || codecsBefore !== this.meetingCodecs().join()) this.broadcastIndex();
  }

  /** DATA_MESSAGE: relayed to everyone else; throttled ones go back to the sender, invalid ones get a NOTIFICATION. */
  dataMessage(participant: Participant, frame: SdkDataMessageFrame): void {
    if (!this.isCurrent(participant)) return;
    const outcome = this.dataMessages.ingest({ participantId: participant.id, externalUserId: participant.attendee.ExternalUserId }, frame.messages);
    const last = outcome.relayed.at(-1);
    if (last) {
      const relayed = serverFrame.dataMessage({ messages: outcome.relayed });
      // Messages the lifetime buffer keeps may be dropped for a backed-up session: its reconnect gets them replayed.
      const replayable = outcome.relayed.every((m) => (m.lifetimeMs ?? 0) > 0);
      for (const p of this.participants.values()) {
        // A session already closing would lose the frame: it is not counted as seen, so its reconnect gets it replayed.
        if (p === participant || !p.session.isOpen) continue;
        if (p.session.send(relayed, replayable) === false) continue;
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

  /**
   * REMOTE_VIDEO_UPDATE: a client choosing another layer of a video it receives (its
   * priority policy switching within a group, without a new offer). Entries naming a
   * stream that is not a layer of a current publication are left for the next SUBSCRIBE.
   */
  remoteVideoUpdate(participant: Participant, update: SdkRemoteVideoUpdateFrame): void {
    if (!this.isCurrent(participant)) return;
    this.chooseLayers(participant, update.addedOrUpdatedVideoSubscriptions.map((s) => s.streamId));
    this.notePreferences(participant, update.addedOrUpdatedVideoSubscriptions, false);
  }

  /** VideoPreferences (priority and target size per attendee) for the server's own allocation. */
  private notePreferences(participant: Participant, configs: readonly SdkVideoSubscriptionConfiguration[], replace: boolean): void {
    if (configs.length === 0 && !replace) return;
    const preferences = new Map<string, VideoPreferenceSpec>();
    for (const c of configs) {
      const publisherId = this.participants.has(c.attendeeId) ? c.attendeeId : this.publisherOfStream(c.streamId);
      if (publisherId === undefined) continue;
      preferences.set(publisherId, { priority: c.priority, targetBps: c.targetBitrateKbps * 1000 });
    }
    this.media.setVideoPreferences(participant.id, preferences, replace);
  }

  /** Records which stream (layer) of each SVC publisher `participant` asked for, and tells the media layer. */
  private chooseLayers(participant: Participant, streamIds: readonly number[]): void {
    for (const streamId of streamIds) {
      const publisherId = this.publisherOfStream(streamId);
      const base = publisherId === undefined ? undefined : this.participants.get(publisherId)?.publication?.streamId;
      if (publisherId === undefined || base === undefined) continue;
      participant.chosenStreams.set(publisherId, streamId);
      const { spatial, temporal } = layersOfStream(streamId, base);
      this.media.setVideoLayers(participant.id, publisherId, spatial, temporal);
    }
  }

  /** PAUSE/RESUME by stream id: the subscriber stops or resumes receiving those publishers. */
  setPaused(participant: Participant, streamIds: number[], paused: boolean): void {
    if (!this.isCurrent(participant)) return;
    const publishers = streamIds.map((id) => this.publisherOfStream(id)).filter((p): p is string => p !== undefined);
    this.media.setPaused(participant.id, publishers, paused);
  }

  setMuted(participant: Participant, muted: boolean): void {
    if (!this.isCurrent(participant) || participant.muted === muted) return;
    const before = this.shownMuted(participant);
    participant.muted = muted;
    this.media.setMuted(participant.id, muted);
    // Someone whose Audio capability forbids sending stays muted for everyone, whatever its client says.
    if (this.shownMuted(participant) !== before) this.presenceChange(participant);
  }

  /**
   * A participant's shown mute changed. Changes are broadcast at most once per
   * presence interval for the whole meeting, each participant's latest state once:
   * a thousand toggles cost a few broadcasts, not a thousand times the meeting's size.
   */
  private presenceChange(participant: Participant): void {
    this.presenceChanged.add(participant.id);
    if (this.presenceTimer !== undefined) return;
    const interval = this.deps.presenceIntervalMs ?? DEFAULT_SIGNALING_LIMITS.presenceIntervalMs;
    const wait = this.lastPresenceAt + interval - this.clock.monotonic();
    if (wait <= 0) {
      this.flushPresence();
      return;
    }
    this.presenceTimer = this.clock.setTimeout(() => {
      this.presenceTimer = undefined;
      this.flushPresence();
    }, wait);
  }

  private flushPresence(): void {
    if (this.closed || this.presenceChanged.size === 0) return;
    const streams = [];
    for (const id of this.presenceChanged) {
      const p = this.participants.get(id);
      if (p) streams.push({ audioStreamId: p.audioStreamId, muted: this.shownMuted(p) });
    }
    this.presenceChanged.clear();
    this.lastPresenceAt = this.clock.monotonic();
    if (streams.length > 0) this.broadcast(serverFrame.audioStreamIdInfo({ streams }));
  }

  /**
   * UpdateAttendeeCapabilities took effect: the attendee's media follows at once.
   * Audio it may not send leaves the mix and shows muted; video it may not send stops
   * being forwarded (the next SUBSCRIBE answers its camera with 206, view only); what it
   * may not receive stops going to it.
   */
  updateCapabilities(attendee: Pick<Attendee, 'AttendeeId' | 'Capabilities'>): void {
    for (const p of this.participants.values()) {
      if (p.attendee.AttendeeId !== attendee.AttendeeId || this.closed) continue;
      const wasMuted = this.shownMuted(p);
      p.attendee = { ...p.attendee, Capabilities: { ...attendee.Capabilities } };
      const { publicationEnded } = this.media.setPermissions(p.id, permissionsOf(p));
      this.deps.logger.info('capabilities_applied', { meetingId: this.meeting.MeetingId, participantId: p.id, capabilities: attendee.Capabilities });
      if (this.shownMuted(p) !== wasMuted) this.presenceChange(p);
      if (publicationEnded && p.publication) {
        p.publication = undefined;
        this.deps.activity?.emit('videoStopped', this.subject(p));
        this.broadcastIndex();
      }
    }
  }

  /** Muted as the others see it: by its own choice, or because its Audio capability forbids sending. */
  private shownMuted(p: Participant): boolean {
    return p.muted || !capabilitySends(p.attendee.Capabilities.Audio);
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

  /** The meeting ended: everyone is told (410) and disconnected, and its media closes. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.presenceTimer);
    for (const p of [...this.participants.values()]) {
      p.session.send(serverFrame.audioStatus({ audioStatus: AUDIO_STATUS.meetingEnded }));
      p.session.close(CLOSE_CODES.meetingEnded, 'The meeting has ended');
      if (p.publication) this.deps.activity?.emit('videoStopped', this.subject(p));
      this.deps.activity?.emit('left', { ...this.subject(p), dropped: false });
    }
    this.participants.clear();
    this.media.close();
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

  /** The media layer lost this participant's peer: its video is gone for everyone until it subscribes again. */
  private peerFailed(participantId: string): void {
    const participant = this.participants.get(participantId);
    if (!participant) return;
    this.deps.logger.info('participant_media_failed', { meetingId: this.meeting.MeetingId, participantId });
    if (participant.publication) {
      participant.publication = undefined;
      this.deps.activity?.emit('videoStopped', this.subject(participant));
      this.broadcastIndex();
    }
  }

  /** Updates what `participant` publishes, as the protocol numbers it; returns whether the INDEX changed. */
  private applyPublication(participant: Participant, published: NegotiateResult['published'], maxBitrateKbps: number): boolean {
    const previous = participant.publication;
    if (!published) {
      if (!previous) return false;
      participant.publication = undefined;
      this.deps.activity?.emit('videoStopped', this.subject(participant));
      return true;
    }
    // A stream keeps its id while the same m-section keeps publishing; a new publication gets new ids,
    // and a higher group id, which is how the client tells the newest publication of an attendee.
    const same = previous && previous.mid === published.mid;
    const publication: VideoPublication = {
      streamId: same ? previous.streamId : this.allocateVideoStreamIds(),
      groupId: same ? previous.groupId : this.nextGroupId++,
      mid: published.mid,
      codec: published.codec,
      maxBitrateKbps,
    };
    participant.publication = publication;
    if (!previous) this.deps.activity?.emit('videoStarted', this.subject(participant));
    return !same || previous.codec !== publication.codec || previous.maxBitrateKbps !== maxBitrateKbps;
  }

  private removeParticipant(
    participant: Participant,
    dropped: boolean,
    options: { silent: boolean; keepContentSlot?: boolean; keepStreams?: boolean },
  ): void {
    if (this.participants.get(participant.id) !== participant) return;
    this.participants.delete(participant.id);
    // A change not yet broadcast is moot: the snapshot its successor's JOIN sends has the latest state.
    this.presenceChanged.delete(participant.id);
    // A reconnecting client keeps its stream: its subscribers stay attached until it publishes again.
    this.media.removeParticipant(participant.id, { keepPublication: options.keepStreams });
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
    if (participant.publication && !options.keepStreams) this.broadcastIndex();
  }

  private subject(p: Participant) {
    return { meeting: this.meeting, attendee: p.attendee, participantId: p.id, content: p.content };
  }

  private presenceEntry(p: Participant) {
    return {
      audioStreamId: p.audioStreamId,
      attendeeId: p.id,
      externalUserId: p.attendee.ExternalUserId,
      ...(this.shownMuted(p) ? { muted: true } : {}),
    };
  }

  private cameraCount(): number {
    let n = 0;
    for (const p of this.participants.values()) if (p.publication && !p.content) n++;
    return n;
  }

  /** The participant whose publication has this stream id, or one of its layers' (undefined for 0 or an unknown id). */
  private publisherOfStream(streamId: number): string | undefined {
    if (streamId <= 0) return undefined;
    for (const p of this.participants.values()) if (p.publication && inBlock(streamId, p.publication.streamId)) return p.id;
    return undefined;
  }

  /** A new publication's stream ids: its base and a block after it for its SVC layers. */
  private allocateVideoStreamIds(): number {
    const base = this.nextStreamId;
    this.nextStreamId += STREAM_ID_BLOCK;
    return base;
  }

  /** Codecs every participant can receive; VP8 when they have none in common. */
  private meetingCodecs(): VideoCodec[] {
    let codecs: VideoCodec[] = [...VIDEO_CODECS];
    for (const p of this.participants.values()) codecs = codecs.filter((c) => p.receivableCodecs.includes(c));
    return codecs.length > 0 ? codecs : ['VP8'];
  }

  private indexFrame(allTemporal: boolean): Uint8Array {
    const sources = [];
    for (const p of this.participants.values()) {
      const pub = p.publication;
      if (!pub) continue;
      const common = { groupId: pub.groupId, attendeeId: p.id, externalUserId: p.attendee.ExternalUserId, mediaType: SdkStreamMediaType.VIDEO };
      const layers = this.media.videoLayers(p.id);
      if (!layers) {
        sources.push({
          ...common,
          streamId: pub.streamId,
          maxBitrateKbps: pub.maxBitrateKbps,
          // Each INDEX replaces the client's averages, BITRATES' included: it carries the measured rate too.
          // Before anything was measured, half the cap (the priority policy would read 0 as the whole cap).
          avgBitrateBps: this.media.streamBitrateBps(p.id) || pub.maxBitrateKbps * 500,
          framerate: STREAM_FRAMERATE,
        });
        continue;
      }
      // An SVC camera: one stream per layer a subscriber may choose, each with its rate, size and frame rate.
      const totalBps = this.media.streamBitrateBps(p.id);
      const streams = layerStreams(pub.streamId, layers, STREAM_FRAMERATE, allTemporal);
      for (const layer of streams) {
        const bps = this.media.layerBitrateBps(p.id, layer.spatial, layer.temporal);
        // The cap shared by measured rate; before any, by the layer's place in the structure.
        const share = totalBps > 0 ? bps / totalBps : ((layer.spatial + 1) * (layer.temporal + 1)) / (layers.spatial * layers.temporal);
        const maxBitrateKbps = Math.max(1, Math.round(pub.maxBitrateKbps * Math.min(1, share)));
        sources.push({
          ...common,
          streamId: layer.streamId,
          maxBitrateKbps,
          avgBitrateBps: bps || maxBitrateKbps * 500,
          framerate: layer.framerate,
          width: layer.width,
          height: layer.height,
        });
      }
    }
    return serverFrame.index({
      atCapacity: this.cameraCount() >= MEETING_LIMITS.maxVideoPublishers,
      sources,
      numParticipants: [...this.participants.values()].filter((p) => !p.content).length,
      supportedReceiveCodecIntersection: this.meetingCodecs().map((c) => CODEC_CAPABILITY[c]),
    });
  }

  /** INDEX to everyone, in the form each asked for (with or without every temporal layer). */
  private broadcastIndex(): void {
    let plain: Uint8Array | undefined;
    let temporal: Uint8Array | undefined;
    for (const p of this.participants.values()) {
      p.session.send(p.wantsTemporalLayers ? (temporal ??= this.indexFrame(true)) : (plain ??= this.indexFrame(false)));
    }
  }

  private broadcast(frame: Uint8Array, except?: Participant, mayDrop = false): void {
    for (const p of this.participants.values()) if (p !== except) p.session.send(frame, mayDrop);
  }

  /**
   * BITRATES to everyone: the measured rate of every video but its own, and the server's estimate of
   * its downlink in kbps (server_available_outgoing_bitrate, which the SDK's priority policy takes over
   * its own figure). With no estimate yet the field is left out: the SDK keeps a value once given.
   */
  private sendBitrates(report: VideoBitratesReport): void {
    const streams = [];
    for (const s of report.streams) {
      const pub = this.participants.get(s.publisherId)?.publication;
      if (!pub) continue;
      const layers = this.media.videoLayers(s.publisherId);
      if (!layers) {
        streams.push({ publisherId: s.publisherId, sourceStreamId: pub.streamId, avgBitrateBps: s.bps });
        continue;
      }
      // Every layer's rate under every id INDEX may have given it (with and without the temporal layers).
      for (const layer of layerStreams(pub.streamId, layers, STREAM_FRAMERATE, true)) {
        streams.push({ publisherId: s.publisherId, sourceStreamId: layer.streamId, avgBitrateBps: this.media.layerBitrateBps(s.publisherId, layer.spatial, layer.temporal) });
      }
    }
    const downlinks = new Map(report.downlinks.map((d) => [d.participantId, d.bps]));
    for (const p of this.participants.values()) {
      if (!p.session.isOpen) continue;
      const estimateKbps = Math.floor((downlinks.get(p.id) ?? 0) / 1000);
      p.session.send(serverFrame.bitrates({
        bitrates: streams.filter((s) => s.publisherId !== p.id).map(({ sourceStreamId, avgBitrateBps }) => ({ sourceStreamId, avgBitrateBps })),
        ...(estimateKbps > 0 ? { serverAvailableOutgoingBitrate: estimateKbps } : {}),
      }));
    }
  }

  /** The server paused or resumed videos to fit a participant's downlink: PAUSE/RESUME by group, as Chime does. */
  private sendServerPauses(change: { participantId: string; paused: string[]; resumed: string[] }): void {
    const p = this.participants.get(change.participantId);
    if (!p?.session.isOpen) return;
    const groups = (ids: string[]) => ids.map((id) => this.participants.get(id)?.publication?.groupId).filter((g): g is number => g !== undefined);
    const paused = groups(change.paused);
    const resumed = groups(change.resumed);
    if (paused.length > 0) p.session.send(serverFrame.pauseGroups(paused));
    if (resumed.length > 0) p.session.send(serverFrame.resumeGroups(resumed));
    this.deps.logger.info('video_paused_for_bandwidth', { meetingId: this.meeting.MeetingId, participantId: p.id, paused: change.paused, resumed: change.resumed });
  }

  /** Volumes for the SDK's indicators: dB below full scale per audio stream, muted flags, full signal strength. */
  private broadcastAudioMetadata(levels: AudioLevelReport[]): void {
    const attendeeStates = [];
    for (const level of levels) {
      const p = this.participants.get(level.participantId);
      if (!p) continue;
      attendeeStates.push({ audioStreamId: p.audioStreamId, volume: level.level, muted: level.muted, signalStrength: 2 });
    }
    // Volumes are current five times a second: a backed-up session simply misses some.
    if (attendeeStates.length > 0) this.broadcast(serverFrame.audioMetadata({ attendeeStates }), undefined, true);
  }
}
