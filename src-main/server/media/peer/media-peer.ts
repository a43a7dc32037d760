import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import { TypedEmitter } from '../../../shared/typed-emitter.js';
import { ChorusError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { guarded } from './guard.js';
import type { VideoCodec } from '../video/codecs.js';
import { isRtcpPacket } from '../rtp/rtp.js';
import { stripTransportCc, type HeaderExtension } from './sdp.js';

/** Where ICE listens: one host address (or every interface) and one UDP port shared by all peers (or any). */
/** libdatachannel's default Opus parameters, plus DTX from the sender. */
export const OPUS_ANSWER_FMTP = 'minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1;usedtx=1';

export interface IceConfig {
  host?: string;
  udpPort?: number;
}

export interface SendAudioSpec {
  mid: string;
  payloadType: number;
  ssrc: number;
  streamLabel: string;
  trackId: string;
  /** The offer's id for the RFC 6464 audio-level extension, kept in the answer so clients send it. */
  audioLevelExtensionId?: number;
  /**
   * audio/red (RFC 2198) over this Opus payload type, when the offer has it: answered
   * first, so the browser sends its frames with redundancy and the mixer fills losses.
   */
  redPayloadType?: number;
}

export interface SendVideoSpec {
  mid: string;
  codec: VideoCodec;
  payloadType: number;
  /** The offer's format parameters for that payload type. */
  fmtp?: string;
  ssrc: number;
  streamLabel: string;
  trackId: string;
  /** Header extensions negotiated on this m-section, with the client's ids. */
  extensions: HeaderExtension[];
}

export interface ReceiveVideoSpec {
  mid: string;
  codec: VideoCodec;
  payloadType: number;
  /** The offer's format parameters for that payload type. */
  fmtp?: string;
  extensions: HeaderExtension[];
}

/** What the answer says for every m-section of the offer. */
export interface AnswerPlan {
  audio?: SendAudioSpec;
  sendVideos: SendVideoSpec[];
  receiveVideos: ReceiveVideoSpec[];
  /** Refused m-sections, answered inactive with a codec the offer listed (libdatachannel rejects unknown ones). */
  inactive: { mid: string; kind: 'audio' | 'video'; payloadType: number; codecName: string; extensions?: HeaderExtension[] }[];
}

export interface MediaPeerEvents extends Record<string, unknown> {
  rtp: { mid: string; packet: Buffer };
  rtcp: { mid: string; packet: Buffer };
  trackOpen: { mid: string };
  state: { state: string };
  closed: Record<string, never>;
}

const CNAME = 'chorus';
const GATHERING_TIMEOUT_MS = 5_000;
/** How long a re-offer that rejects a new mid waits for that mid's onTrack wrapper (normally a few ms). */
const TRACK_ARRIVAL_WAIT_MS = 1_000;

/** The SDP name of each codec (libdatachannel writes rtpmap name/90000 and the usual nack, pli and remb feedback). */
const SDP_NAME: Record<VideoCodec, string> = { VP8: 'VP8', H264: 'H264', H264_HIGH: 'H264', VP9: 'VP9', AV1: 'AV1' };

/** Answers a codec with the offer's own format parameters, so profiles match exactly what the client asked for. */
function addVideoCodec(video: Video, codec: VideoCodec, payloadType: number, fmtp: string | undefined): void {
  if (codec === 'VP8' && !fmtp) video.addVP8Codec(payloadType);
  else video.addVideoCodec(payloadType, SDP_NAME[codec], fmtp);
}

function addExtensions(video: Video, extensions: HeaderExtension[]): void {
  for (const ext of extensions) video.parseSdpLine(`a=extmap:${ext.id} ${ext.uri}`);
}

/** Every mid an answer plan mentions; a mid answered before and not among them was rejected by the offer. */
function plannedMids(plan: AnswerPlan): Set<string> {
  return new Set<string>([
    ...(plan.audio ? [plan.audio.mid] : []),
    ...plan.sendVideos.map((s) => s.mid),
    ...plan.receiveVideos.map((s) => s.mid),
    ...plan.inactive.map((s) => s.mid),
  ]);
}

/** Closes one JS wrapper of a native track; the native track goes once all its wrappers are closed. */
function closeTrack(track: Track, mid: string, logger: Logger, peer: string): void {
  try {
    track.close();
  } catch (error) {
    logger.debug('track_close_failed', { peer, mid, error });
  }
}

/** What the rest of the media layer uses of a peer: MediaPeer, or a stand-in in tests. */
export interface MediaPeerPort {
  readonly events: TypedEmitter<MediaPeerEvents>;
  answer(offerSdp: string, plan: AnswerPlan): Promise<string>;
  send(mid: string, packet: Buffer): boolean;
  /** Whether the track of `mid` is open now (a renegotiated mid keeps its open native track, and no new open event comes). */
  isTrackOpen(mid: string): boolean;
  close(): void;
}

/**
 * One WebRTC connection to one signaling session, over libdatachannel. The client
 * offers, this answers according to an AnswerPlan; media arrives as typed events
 * and leaves through `send`. Every native callback is guarded.
 */
export class MediaPeer implements MediaPeerPort {
  readonly events: TypedEmitter<MediaPeerEvents>;
  private readonly pc: PeerConnection;
  private readonly tracks = new Map<string, Track>();
  /** Tracks known to be open, so sending needs no native isOpen() call per packet. */
  private readonly openTracks = new WeakSet<Track>();
  /** Every JS wrapper of each mid's native track (see the constructor), so a rejected mid can be released. */
  private readonly retainedTracks = new Map<string, Track[]>();
  /** What each mid was last answered with; an unchanged mid keeps its track, since re-adding one cuts its media. */
  private readonly answered = new Map<string, string>();
  /** Answered mids whose onTrack wrapper has not arrived yet (node-datachannel delivers it asynchronously). */
  private readonly awaitedTracks = new Map<string, { arrived: Promise<void>; resolve: () => void }>();
  private negotiated = false;
  private closed = false;

  constructor(
    readonly id: string,
    ice: IceConfig,
    private readonly logger: Logger,
  ) {
    this.events = new TypedEmitter((error, event) => logger.error('media_listener_failed', { event: String(event), error }));
    const port = ice.udpPort ?? 0;
    this.pc = new PeerConnection(id, {
      iceServers: [],
      bindAddress: ice.host,
      enableIceUdpMux: port !== 0,
      portRangeBegin: port || undefined,
      portRangeEnd: port || undefined,
      disableAutoNegotiation: true,
    });
    this.pc.onStateChange(guarded(logger, 'onStateChange', (state: string) => {
      logger.debug('media_peer_state', { peer: id, state });
      this.events.emit('state', { state });
      if (state === 'closed' || state === 'failed') this.close();
    }));
    // node-datachannel closes a track's native object when its JS wrapper is garbage-collected, and
    // every wrapper of one mid (from onTrack, and from each addTrack for that mid) shares that object.
    // Dropping any of them cuts the m-section's media some seconds later, so all are kept until close().
    // The onTrack wrapper of a new mid arrives after answer() has returned; one for a mid that a later
    // offer already rejected is closed at once, or it would keep that mid's native track alive.
    this.pc.onTrack(guarded(logger, 'onTrack', (track: Track) => {
      const mid = track.mid();
      this.awaitedTracks.get(mid)?.resolve();
      this.awaitedTracks.delete(mid);
      if (this.answered.has(mid)) this.retain(mid, track);
      else closeTrack(track, mid, logger, id);
    }));
  }

  get state(): string {
    return this.closed ? 'closed' : this.pc.state();
  }

  /** Applies a (re-)offer and returns the answer SDP. */
  async answer(offerSdp: string, plan: AnswerPlan): Promise<string> {
    if (this.closed) throw new ChorusError('CLOSED', 'media peer is closed');
    await this.awaitTracksOfRejectedMids(plan);
    if (this.closed) throw new ChorusError('CLOSED', 'media peer is closed');
    this.pc.setRemoteDescription(stripTransportCc(offerSdp), 'offer');
    this.releaseRejectedMids(plan);

    if (plan.audio) {
      const spec = plan.audio;
      this.addTrackIfChanged(spec.mid, { kind: 'audio', ...spec }, () => {
        const audio = new Audio(spec.mid, 'SendRecv');
        // usedtx=1 asks the browser to send DTX while its microphone is silent or muted (a packet
        // every 400 ms instead of 50 a second): most attendees are silent most of the time, and
        // every packet they send costs the server a receive, a decrypt and a JavaScript callback.
        if (spec.redPayloadType !== undefined) audio.addAudioCodec(spec.redPayloadType, 'red', `${spec.payloadType}/${spec.payloadType}`);
        audio.addOpusCodec(spec.payloadType, OPUS_ANSWER_FMTP);
        audio.addSSRC(spec.ssrc, CNAME, spec.streamLabel, spec.trackId);
        if (spec.audioLevelExtensionId !== undefined) {
          audio.parseSdpLine(`a=extmap:${spec.audioLevelExtensionId} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
        }
        return audio;
      });
    }
    for (const spec of plan.sendVideos) {
      this.addTrackIfChanged(spec.mid, { kind: 'send', ...spec }, () => {
        const video = new Video(spec.mid, 'SendOnly');
        addVideoCodec(video, spec.codec, spec.payloadType, spec.fmtp);
        addExtensions(video, spec.extensions);
        // Our SSRC must be in our description, or libdatachannel never routes the receiver's RTCP to this track.
        video.addSSRC(spec.ssrc, CNAME, spec.streamLabel, spec.trackId);
        return video;
      });
    }
    for (const spec of plan.receiveVideos) {
      this.addTrackIfChanged(spec.mid, { kind: 'receive', ...spec }, () => {
        const video = new Video(spec.mid, 'RecvOnly');
        addVideoCodec(video, spec.codec, spec.payloadType, spec.fmtp);
        addExtensions(video, spec.extensions);
        return video;
      });
    }
    for (const spec of plan.inactive) {
      this.addTrackIfChanged(spec.mid, { answer: 'inactive', ...spec }, () => {
        if (spec.kind === 'audio') {
          const audio = new Audio(spec.mid, 'Inactive');
          audio.addAudioCodec(spec.payloadType, spec.codecName);
          return audio;
        }
        const video = new Video(spec.mid, 'Inactive');
        video.addVideoCodec(spec.payloadType, spec.codecName);
        if (spec.extensions) addExtensions(video, spec.extensions);
        return video;
      });
    }

    this.pc.setLocalDescription('answer');
    if (!this.negotiated) {
      this.negotiated = true;
      await this.waitForGathering();
    }
    const local = this.pc.localDescription();
    if (!local) throw new ChorusError('STARTUP_FAILED', 'libdatachannel produced no answer');
    return local.sdp;
  }

  /** Sends one RTP or RTCP packet on the track of `mid` (copied by libdatachannel); false when it is not open yet. */
  send(mid: string, packet: Buffer): boolean {
    const track = this.tracks.get(mid);
    if (!track || this.closed) return false;
    if (!this.openTracks.has(track)) {
      // onOpen may not have been delivered yet: ask once, then trust the open/closed callbacks.
      if (!track.isOpen()) return false;
      this.openTracks.add(track);
    }
    try {
      return track.sendMessageBinary(packet);
    } catch (error) {
      this.logger.debug('media_send_failed', { peer: this.id, mid, error });
      return false;
    }
  }

  isTrackOpen(mid: string): boolean {
    return !this.closed && (this.tracks.get(mid)?.isOpen() ?? false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pc.close();
    } catch (error) {
      this.logger.debug('media_close_failed', { peer: this.id, error });
    }
    this.tracks.clear();
    // A pending re-offer stops waiting for wrappers that will not matter now.
    for (const awaited of this.awaitedTracks.values()) awaited.resolve();
    this.awaitedTracks.clear();
    this.retainedTracks.clear();
    this.events.emit('closed', {});
    this.events.removeAllListeners();
  }

  /**
   * A re-offer can reject a mid so soon after its first answer that node-datachannel has
   * not yet delivered that mid's onTrack wrapper (a loaded machine delays it). That
   * wrapper would keep the native track, and the mid answered as before, alive through
   * this answer; so it is awaited first, for a bounded time.
   */
  private async awaitTracksOfRejectedMids(plan: AnswerPlan): Promise<void> {
    const planned = plannedMids(plan);
    const pending = [...this.awaitedTracks].filter(([mid]) => !planned.has(mid)).map(([, awaited]) => awaited.arrived);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, TRACK_ARRIVAL_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private addTrackIfChanged(mid: string, description: object, create: () => Audio | Video): void {
    const signature = JSON.stringify(description);
    if (this.answered.get(mid) === signature) return;
    if (!this.answered.has(mid) && !this.awaitedTracks.has(mid)) {
      let resolve!: () => void;
      const arrived = new Promise<void>((r) => (resolve = r));
      this.awaitedTracks.set(mid, { arrived, resolve });
    }
    this.answered.set(mid, signature);
    this.attach(mid, this.pc.addTrack(create()));
  }

  private retain(mid: string, track: Track): void {
    const wrappers = this.retainedTracks.get(mid);
    if (wrappers) wrappers.push(track);
    else this.retainedTracks.set(mid, [track]);
  }

  /**
   * A mid this peer answered before that the plan no longer mentions was rejected by the offer
   * (port 0: Chrome stops the transceiver of a video it no longer receives). libdatachannel keeps
   * answering a mid with its track's description for as long as that track exists, so the answer
   * would say `sendonly` where the offer stopped the m-section, and Chrome refuses the whole answer
   * ("Incompatible receive direction"), failing the client's update. Closing every wrapper of the
   * mid's track lets libdatachannel answer it rejected, as JSEP requires.
   */
  private releaseRejectedMids(plan: AnswerPlan): void {
    const planned = plannedMids(plan);
    for (const mid of [...this.answered.keys()]) {
      if (planned.has(mid)) continue;
      this.answered.delete(mid);
      this.awaitedTracks.delete(mid);
      this.tracks.delete(mid);
      for (const track of this.retainedTracks.get(mid) ?? []) closeTrack(track, mid, this.logger, this.id);
      this.retainedTracks.delete(mid);
    }
  }

  private attach(mid: string, track: Track): void {
    this.tracks.set(mid, track);
    this.retain(mid, track);
    track.onMessage(guarded(this.logger, 'track.onMessage', (message: Buffer) => {
      if (this.closed) return;
      this.events.emit(isRtcpPacket(message) ? 'rtcp' : 'rtp', { mid, packet: message });
    }));
    track.onOpen(guarded(this.logger, 'track.onOpen', () => {
      this.openTracks.add(track);
      if (!this.closed) this.events.emit('trackOpen', { mid });
    }));
    track.onClosed(guarded(this.logger, 'track.onClosed', () => {
      this.openTracks.delete(track);
    }));
    track.onError(guarded(this.logger, 'track.onError', (error: string) => this.logger.debug('track_error', { peer: this.id, mid, error })));
  }

  private waitForGathering(): Promise<void> {
    if (this.pc.gatheringState() === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHERING_TIMEOUT_MS);
      this.pc.onGatheringStateChange(guarded(this.logger, 'onGatheringStateChange', (state: string) => {
        if (state === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      }));
    });
  }
}
