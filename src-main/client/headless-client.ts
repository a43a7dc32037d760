import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import {
  SdkJoinFlags,
  SdkSignalFrame_Type,
  SdkStreamMediaType,
  SdkStreamServiceType,
  type SdkSignalFrame,
  type SignalFrameInit,
} from '../shared/signaling/frames.js';
import { parseRtcp } from '../server/media/rtp/rtcp.js';
import { isRtcpPacket, parseRtp, readHeaderExtensions } from '../server/media/rtp/rtp.js';
import { opusDtxRequested } from '../server/media/peer/sdp.js';
import { startSpeaking, toneMicrophone, type Microphone } from './microphone.js';
import { applyAnswer, withoutCandidates } from './sdp-exchange.js';
import type { PinnedTls } from './pinned-tls.js';
import { ReceptionStats } from './reception-report.js';
import { SignalingChannel } from './signaling-channel.js';
import { readLatencyTag, SENT_AT, SyntheticVideo, type SyntheticCodec } from './synthetic-video.js';

export { toneMicrophone, type Microphone } from './microphone.js';

/**
 * A Chime meeting attendee in Node: it joins like amazon-chime-sdk-js does (JOIN,
 * INDEX, SUBSCRIBE with a full offer over the Chime signaling protocol),
 * publishes synthetic video and real Opus over node-datachannel, subscribes to
 * others and counts what arrives. Tests, benchmarks and `npm run load` use it
 * where a 2-core machine cannot run enough browsers.
 */

export interface HeadlessOptions {
  publishVideo?: boolean;
  /** How many remote videos this client can receive at once. */
  receiveSlots?: number;
  /** Bytes per synthetic video packet. */
  packetBytes?: number;
  /** Synthetic video packets per second while publishing. */
  packetsPerSecond?: number;
  /** Video codecs offered, in order (default VP8 only). */
  codecs?: SyntheticCodec[];
  /** JOIN audio_session_id; the same value again means the same client reconnecting. */
  audioSessionId?: bigint;
  /** Speak a continuous sine of this frequency as real Opus (16 kHz mono, 20 ms). */
  toneHz?: number;
  /** A general microphone: PCM per 20 ms frame (null = a silent frame), sent as real Opus. */
  microphone?: Microphone;
  /** Offer RFC 6464 audio levels with this extension id and send them with each audio packet. */
  audioLevelExtensionId?: number;
  /** Keep received mixed-audio payloads and arrival times (default true; load generators turn it off). */
  recordAudio?: boolean;
  /** Drop AUDIO_METADATA frames unread (5 a second, one entry per attendee): load generators with hundreds of clients. */
  ignoreAudioMetadata?: boolean;
  /** For wss:// to a server with a self-signed certificate: trust exactly that certificate. */
  tls?: PinnedTls;
  /** Tests of loss repair: withhold this fraction of synthetic video packets (NACKs still get them resent). */
  videoSendLoss?: { rate: number; seed: number };
  /** Offer urn:3gpp:video-orientation with this id on every video m-section; publishers then send it. */
  videoOrientationId?: number;
  /** Offer abs-send-time with this id on every video m-section: the server stamps it on what it sends. */
  absSendTimeId?: number;
  /** Local address for ICE (default 127.0.0.1); a client in a network namespace uses its own. */
  bindAddress?: string;
  /** Send a receiver report about each received video every second, as if `lossRate` of its packets were lost. */
  receiverReports?: { lossRate: number };
  /** Benchmarks: a paced audio source that replaces `microphone` (the same one drives other servers' clients). */
  audioSender?: MediaSenderFactory;
  /** Benchmarks: a paced video source that replaces the synthetic packets; PLI/FIR ask it for a keyframe. */
  videoSender?: MediaSenderFactory;
  /** Benchmarks: sees every RTP packet received (audio on mid '0', video on its receive mid). */
  onRtp?(kind: 'audio' | 'video', mid: string, packet: Buffer): void;
}

/** Where a benchmark media source sends its RTP (structurally bench/load/senders.ts). */
export interface MediaSenderFactory {
  (sink: { send(packet: Buffer): void; ssrc: number; payloadType: number; audioLevelExtensionId?: number; dtx?: boolean }): { stop(): void; requestKeyframe(): void };
}

/** The parts of CreateMeeting/CreateAttendee (or the app API's join) a client needs. */
export interface JoinInfo {
  meeting: { MediaPlacement?: { SignalingUrl?: string; AudioHostUrl?: string } };
  attendee: { AttendeeId?: string; JoinToken?: string };
}

const CODEC_PT = { VP8: 96, H264: 102 } as const;
const OPUS_PT = 111;
const JOIN_ATTEMPTS = 3;
const GATHERING_WAIT_MS = 2000;

const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffff0);

export class HeadlessClient {
  readonly received = new Map<string, number>();
  /** Send time (performance.now) of each tagged packet, shared by all clients in this process. */
  readonly sentAt = SENT_AT;
  readonly latenciesMs: number[] = [];
  pliReceived = 0;
  /** Packets of our camera the server asked for again (NACK). */
  nacksReceived = 0;
  readonly stateLog: string[] = [];
  /** Opus payloads of the mixed audio received, in arrival order. */
  readonly audioReceived: Uint8Array[] = [];
  /** Arrival time (performance.now) of each entry of audioReceived. */
  readonly audioArrivals: number[] = [];
  /** Mixed-audio packets received, recorded or not. */
  audioPackets = 0;
  /** Header extensions (id to bytes) of the latest video packet received. */
  lastExtensions = new Map<number, number[]>();
  /** The codec and payload type the server's answer chose for our camera. */
  sendCodec: { codec: SyntheticCodec; payloadType: number } | undefined;
  private readonly channel: SignalingChannel;
  private pc: PeerConnection | undefined;
  /** Every track wrapper is kept: node-datachannel closes a native track when its wrapper is collected. */
  private readonly tracks: Track[] = [];
  private cameraTrack: Track | undefined;
  private audioTrack: Track | undefined;
  private stopSpeaking: (() => void) | undefined;
  private audioSource: { stop(): void } | undefined;
  private videoSource: { stop(): void; requestKeyframe(): void; resend?(sequenceNumbers: readonly number[]): void } | undefined;
  private readonly videoSsrc = randomSsrc();
  /** The synthetic camera, when publishing one (its loss and resend counters). */
  syntheticVideo: SyntheticVideo | undefined;
  private readonly audioSsrc = randomSsrc();
  /** Per receive mid, when receiverReports is on. */
  private readonly reception = new Map<string, { stats: ReceptionStats; track: Track }>();
  private reportTimer: NodeJS.Timeout | undefined;

  private constructor(url: string, token: string, private readonly options: HeadlessOptions) {
    this.channel = new SignalingChannel(url, token, { ignoreAudioMetadata: options.ignoreAudioMetadata, tls: options.tls });
  }

  /** Every signaling frame received (recent history), oldest first. */
  get frames(): SdkSignalFrame[] {
    return this.channel.frames;
  }

  /** The WebSocket close code, once the server closed the session. */
  get closeCode(): number | undefined {
    return this.channel.closeCode;
  }

  /**
   * Joins and negotiates media, retrying a join whose connection fails before it
   * is up as the SDK would: a new session with the same audio_session_id.
   */
  static async join(meeting: JoinInfo['meeting'], attendee: JoinInfo['attendee'], options: HeadlessOptions = {}): Promise<HeadlessClient> {
    const audioSessionId = options.audioSessionId ?? BigInt(Math.floor(Math.random() * 2 ** 32));
    let lastError: unknown;
    for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
      const client = new HeadlessClient(`${meeting.MediaPlacement!.SignalingUrl}?X-Chime-Control-Protocol-Version=3`, attendee.JoinToken!, { ...options, audioSessionId });
      try {
        await client.joinOnce(meeting.MediaPlacement!.AudioHostUrl ?? '');
        return client;
      } catch (error) {
        lastError = error;
        await client.close();
      }
    }
    throw lastError;
  }

  private async joinOnce(audioHost: string): Promise<void> {
    await this.channel.open();
    const index = this.next(SdkSignalFrame_Type.INDEX);
    this.send({
      type: SdkSignalFrame_Type.JOIN,
      join: { protocolVersion: 2, flags: SdkJoinFlags.HAS_STREAM_UPDATE, audioSessionId: this.options.audioSessionId!, clientDetails: { clientSource: 'chorus-headless' } },
    });
    await index;
    await this.subscribe(audioHost);
    await this.connected();
  }

  next(type: SdkSignalFrame_Type, timeoutMs = 10_000): Promise<SdkSignalFrame> {
    return this.channel.next(type, timeoutMs);
  }

  /** Stream ids of the latest INDEX, minus this client's own. */
  latestSources(ownAttendeeId?: string): number[] {
    return (this.latestIndex()?.sources ?? []).filter((s) => s.attendeeId !== ownAttendeeId).map((s) => s.streamId);
  }

  latestIndex() {
    return this.channel.latest(SdkSignalFrame_Type.INDEX)?.index;
  }

  /** Offers one audio, one camera and `receiveSlots` receive m-sections, subscribing to `streamIds`. */
  async subscribe(audioHost: string, streamIds: number[] = []): Promise<SdkSignalFrame> {
    const slots = this.options.receiveSlots ?? 0;
    let pc = this.pc;
    if (pc) {
      // A re-SUBSCRIBE renegotiates the same connection, as the JS client does.
      pc.setLocalDescription('offer');
    } else {
      pc = this.createPeerConnection(slots);
      const gathered = new Promise<void>((resolve) => pc!.onGatheringStateChange((state) => state === 'complete' && resolve()));
      pc.setLocalDescription('offer');
      await Promise.race([gathered, new Promise((r) => setTimeout(r, GATHERING_WAIT_MS))]);
    }
    const offer = withoutCandidates(pc.localDescription()!.sdp);
    const ack = this.next(SdkSignalFrame_Type.SUBSCRIBE_ACK);
    const receiveStreamIds = [0, ...Array.from({ length: slots }, (_, i) => streamIds[i] ?? 0)];
    this.send({
      type: SdkSignalFrame_Type.SUBSCRIBE,
      sub: {
        duplex: this.options.publishVideo ? SdkStreamServiceType.DUPLEX : SdkStreamServiceType.RX,
        sendStreams: [
          { mediaType: SdkStreamMediaType.AUDIO, trackLabel: 'AmazonChimeExpressAudio', streamId: 1, groupId: 1 },
          ...(this.options.publishVideo ? [{ mediaType: SdkStreamMediaType.VIDEO, trackLabel: 'AmazonChimeExpressVideo', streamId: 2, groupId: 2, maxBitrateKbps: 1200 }] : []),
        ],
        receiveStreamIds,
        sdpOffer: offer,
        audioHost,
      },
    });
    const frame = await ack;
    const answer = frame.suback!.sdpAnswer;
    try {
      applyAnswer(pc, answer);
    } catch (error) {
      throw new Error(`${(error as Error).message} (peer states: ${this.stateLog.join(' ') || 'none'}; now ${pc.state()}/${pc.signalingState()})`, { cause: error });
    }
    const cameraSection = answer.split(/\r\nm=/).find((m) => /\r\na=mid:1\r\n/.test(m));
    const pt = Number(/^video \d+ \S+ (\d+)/.exec(cameraSection ?? '')?.[1]);
    this.sendCodec = pt === CODEC_PT.H264 ? { codec: 'H264', payloadType: pt } : { codec: 'VP8', payloadType: CODEC_PT.VP8 };
    if (this.options.publishVideo) this.startPublishing();
    await this.startAudio(opusDtxRequested(answer, OPUS_PT));
    return frame;
  }

  private async startAudio(dtx: boolean): Promise<void> {
    const microphone = this.options.microphone ?? (this.options.toneHz !== undefined ? toneMicrophone(this.options.toneHz) : undefined);
    const track = (): Track | undefined => this.audioTrack;
    if (this.options.audioSender && !this.audioSource) {
      this.audioSource = this.options.audioSender({
        send: (packet) => { if (track()?.isOpen()) track()!.sendMessageBinary(packet); },
        ssrc: this.audioSsrc, payloadType: OPUS_PT, audioLevelExtensionId: this.options.audioLevelExtensionId, dtx,
      });
    } else if (microphone && !this.stopSpeaking) {
      this.stopSpeaking = () => undefined;
      this.stopSpeaking = await startSpeaking(microphone, {
        send: (packet) => track()!.sendMessageBinary(packet),
        isOpen: () => track()?.isOpen() ?? false,
        ssrc: this.audioSsrc, payloadType: OPUS_PT, audioLevelExtensionId: this.options.audioLevelExtensionId, dtx,
      });
    }
  }

  private createPeerConnection(slots: number): PeerConnection {
    const pc = new PeerConnection('headless', { iceServers: [], bindAddress: this.options.bindAddress ?? '127.0.0.1', disableAutoNegotiation: true });
    this.pc = pc;
    // The state log explains failures. Registering this callback also matters: without any
    // callback on it, a client PeerConnection was seen closing on its own before its answer arrived.
    const born = performance.now();
    pc.onStateChange((state) => {
      this.stateLog.push(`${Math.round(performance.now() - born)}ms:${state}`);
    });
    const audio = new Audio('0', 'SendRecv');
    audio.addOpusCodec(OPUS_PT);
    // libdatachannel routes RTP by the SSRCs in the SDP: what we send must use this one.
    audio.addSSRC(this.audioSsrc, 'headless', 'mic', 'mic');
    if (this.options.audioLevelExtensionId !== undefined) audio.parseSdpLine(`a=extmap:${this.options.audioLevelExtensionId} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
    const audioTrack = pc.addTrack(audio);
    this.tracks.push(audioTrack);
    // libdatachannel may route RTCP by its sender SSRC, so a PLI can surface on any track.
    audioTrack.onMessage((msg: Buffer) => {
      try {
        if (isRtcpPacket(msg)) return this.onRtcp(msg);
        this.audioPackets++;
        this.options.onRtp?.('audio', '0', msg);
        if (this.options.recordAudio === false) return;
        const info = parseRtp(msg);
        if (info) {
          this.audioReceived.push(new Uint8Array(msg.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength)));
          this.audioArrivals.push(performance.now());
        }
      } catch {
        // guarded: an exception escaping a native callback aborts the process
      }
    });
    this.audioTrack = audioTrack;
    const camera = new Video('1', this.options.publishVideo ? 'SendRecv' : 'Inactive');
    this.addCodecs(camera);
    if (this.options.publishVideo) camera.addSSRC(this.videoSsrc, 'headless', 'cam', 'cam');
    this.cameraTrack = pc.addTrack(camera);
    this.tracks.push(this.cameraTrack);
    for (let i = 0; i < slots; i++) this.addReceiveSlot(pc, String(2 + i));
    this.cameraTrack.onMessage((msg: Buffer) => this.onRtcp(msg));
    return pc;
  }

  private addReceiveSlot(pc: PeerConnection, mid: string): void {
    const video = new Video(mid, 'RecvOnly');
    this.addCodecs(video);
    const track = pc.addTrack(video);
    this.tracks.push(track);
    const reports = this.options.receiverReports;
    const stats = reports ? new ReceptionStats(reports.lossRate) : undefined;
    if (stats) {
      this.reception.set(mid, { stats, track });
      this.reportTimer ??= setInterval(() => this.sendReceiverReports(), 1000);
    }
    track.onMessage((msg: Buffer) => {
      try {
        if (isRtcpPacket(msg)) return this.onRtcp(msg, stats);
        if (stats && msg.length >= 12 && !stats.onPacket(msg.readUInt32BE(8), msg.readUInt16BE(2))) return;
        const info = parseRtp(msg);
        // Padding-only packets (the server probing this link) count in receiver reports, not as video.
        if (info && info.payloadLength === 0 && info.paddingLength > 0) return;
        this.received.set(mid, (this.received.get(mid) ?? 0) + 1);
        this.options.onRtp?.('video', mid, msg);
        if (!info) return;
        this.lastExtensions = new Map(readHeaderExtensions(msg, info).map((e) => [e.id, [...e.data]]));
        const tag = readLatencyTag(msg, info.payloadOffset);
        const sent = tag === undefined ? undefined : this.sentAt.get(tag);
        if (sent !== undefined) this.latenciesMs.push(performance.now() - sent);
      } catch {
        // guarded: an exception escaping a native callback aborts the process
      }
    });
  }

  private addCodecs(video: Video): void {
    for (const codec of this.options.codecs ?? ['VP8']) {
      if (codec === 'VP8') video.addVP8Codec(CODEC_PT.VP8);
      else video.addH264Codec(CODEC_PT.H264);
    }
    if (this.options.videoOrientationId !== undefined) video.parseSdpLine(`a=extmap:${this.options.videoOrientationId} urn:3gpp:video-orientation`);
    if (this.options.absSendTimeId !== undefined) video.parseSdpLine(`a=extmap:${this.options.absSendTimeId} http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`);
  }

  /** RTCP from the server; `stats`, on a receive slot, hears its sender reports (echoed in the next RR). */
  private onRtcp(msg: Buffer, stats?: ReceptionStats): void {
    try {
      if (!isRtcpPacket(msg)) return;
      for (const message of parseRtcp(msg)) {
        if (message.kind === 'sender-report') stats?.onSenderReport(message.ntpMsw, message.ntpLsw, performance.now());
        else if (message.kind === 'pli' || message.kind === 'fir') {
          this.pliReceived++;
          this.videoSource?.requestKeyframe();
        } else if (message.kind === 'nack' && message.mediaSsrc === this.videoSsrc) {
          this.nacksReceived += message.sequenceNumbers.length;
          this.videoSource?.resend?.(message.sequenceNumbers);
        }
      }
    } catch {
      // guarded: an exception escaping a native callback aborts the process
    }
  }

  /** Waits until the peer connection is up. */
  async connected(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pc?.state() !== 'connected') {
      if (Date.now() > deadline || this.pc?.state() === 'closed') throw new Error(`peer not connected: ${this.pc?.state()} (${this.stateLog.join(' ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private startPublishing(): void {
    const send = (packet: Buffer): void => {
      if (this.cameraTrack?.isOpen()) this.cameraTrack.sendMessageBinary(packet);
    };
    if (this.options.videoSender) {
      this.videoSource ??= this.options.videoSender({ send, ssrc: this.videoSsrc, payloadType: this.sendCodec?.payloadType ?? CODEC_PT.VP8 });
      return;
    }
    this.videoSource?.stop();
    this.videoSource = this.syntheticVideo = new SyntheticVideo({
      ssrc: this.videoSsrc,
      codec: () => this.sendCodec ?? { codec: 'VP8', payloadType: CODEC_PT.VP8 },
      packetsPerSecond: this.options.packetsPerSecond ?? 100,
      packetBytes: this.options.packetBytes ?? 1000,
      videoOrientationId: this.options.videoOrientationId,
      sendLoss: this.options.videoSendLoss,
      send,
      isOpen: () => this.cameraTrack?.isOpen() ?? false,
    });
  }

  /** Closes this client's PeerConnection but not its signaling session; the next subscribe() starts a new one. */
  dropPeer(): void {
    this.pc?.close();
    this.pc = undefined;
    this.tracks.length = 0;
    this.cameraTrack = undefined;
    this.audioTrack = undefined;
    this.stateLog.push('dropped');
  }

  /**
   * Drops this client's PeerConnection and negotiates a new one on the same
   * signaling session at once, as a client does after its connection failed.
   */
  async restartPeer(audioHost: string, streamIds: number[] = []): Promise<SdkSignalFrame> {
    this.dropPeer();
    return this.subscribe(audioHost, streamIds);
  }

  /** Mutes or unmutes this attendee, as the SDK does: an AUDIO_CONTROL frame. */
  setMuted(muted: boolean): void {
    this.send({ type: SdkSignalFrame_Type.AUDIO_CONTROL, audioControl: { muted } });
  }

  send(frame: SignalFrameInit): void {
    this.channel.send(frame);
  }

  /** Changes the loss receiver reports pretend (tests: the link gets better). */
  setReceiveLoss(lossRate: number): void {
    for (const entry of this.reception.values()) entry.stats.lossRate = lossRate;
  }

  private sendReceiverReports(): void {
    for (const { stats, track } of this.reception.values()) {
      const rr = stats.report(this.videoSsrc, performance.now());
      if (!rr) continue;
      try {
        if (track.isOpen()) track.sendMessageBinary(rr);
      } catch {
        // a closing track: the next report goes elsewhere or nowhere
      }
    }
  }

  async close(): Promise<void> {
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.stopSpeaking?.();
    this.audioSource?.stop();
    this.videoSource?.stop();
    this.pc?.close();
    this.channel.close();
    await new Promise((r) => setTimeout(r, 10));
  }
}
