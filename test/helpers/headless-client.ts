import { fromBinary } from '@bufbuild/protobuf';
import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import WebSocket from 'ws';
import {
  encodeSignalFrame,
  SdkSignalFrame_Type,
  SdkSignalFrameSchema,
  SdkStreamMediaType,
  SdkStreamServiceType,
  SdkJoinFlags,
  SdkPingPongType,
  type SdkSignalFrame,
} from '../../src-main/shared/signaling/frames.js';
import { buildRtp, parseRtp, isRtcpPacket, readHeaderExtensions } from '../../src-main/server/sfu/rtp.js';
import { parseRtcp } from '../../src-main/server/sfu/rtcp.js';
import { opusDtxRequested } from '../../src-main/server/sfu/sdp.js';
import { silencePayload } from '../../src-main/server/sfu/audio-silence.js';
import { createOpusEncoder } from '../../src-main/server/mixer/opus-codec.js';
import { levelDbov } from '../../src-main/server/mixer/mix.js';

/**
 * A Chime signaling client in Node, with node-datachannel for media: it joins like
 * amazon-chime-sdk-js does (JOIN, INDEX, SUBSCRIBE with a full offer), publishes a
 * synthetic VP8 stream, subscribes to others and counts what arrives. Used where
 * tests or benchmarks need more attendees than browsers a 2-core machine can run.
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
  codecs?: ('VP8' | 'H264')[];
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
  /** Skip decoding AUDIO_METADATA frames (5 a second, one entry per attendee): load generators with hundreds of clients. */
  ignoreAudioMetadata?: boolean;
  /** Offer urn:3gpp:video-orientation with this id on every video m-section; publishers then send it. */
  videoOrientationId?: number;
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

/**
 * What a headless attendee says: `frame(n)` returns the n-th 20 ms frame of 16 kHz
 * PCM, or null for silence (then a pre-encoded Opus silence frame is sent, as a
 * muted or quiet browser would, costing the load generator no encode).
 */
export interface Microphone {
  frame(index: number): Int16Array | null;
  /** Called with the send time (performance.now) of each frame that carries sound. */
  onSent?(index: number, sentAt: number): void;
}

export const toneMicrophone = (hz: number, amplitude = 8000): Microphone => ({
  frame: (n) => Int16Array.from({ length: 320 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * (n * 320 + i)) / 16000))),
});


const CODEC_PT = { VP8: 96, H264: 102 } as const;

interface Meeting { MediaPlacement?: { SignalingUrl?: string; AudioHostUrl?: string } }
interface Attendee { AttendeeId?: string; JoinToken?: string }

const SENT_AT = new Map<number, number>();

export class HeadlessClient {
  readonly frames: SdkSignalFrame[] = [];
  readonly received = new Map<string, number>();
  /** Send time (performance.now) of each tagged packet, shared by all clients in this process. */
  readonly sentAt = SENT_AT;
  readonly latenciesMs: number[] = [];
  pliReceived = 0;
  readonly stateLog: string[] = [];
  /** Opus payloads of the mixed audio received, in arrival order. */
  readonly audioReceived: Uint8Array[] = [];
  /** Arrival time (performance.now) of each entry of audioReceived. */
  readonly audioArrivals: number[] = [];
  /** Mixed-audio packets received, recorded or not. */
  audioPackets = 0;
  private audioTimer: NodeJS.Timeout | undefined;
  private audioSource: { stop(): void } | undefined;
  private videoSource: { stop(): void; requestKeyframe(): void } | undefined;
  /** Header extensions (id to bytes) of the latest video packet received. */
  lastExtensions = new Map<number, number[]>();
  private readonly ws: WebSocket;
  private pc: PeerConnection | undefined;
  private readonly tracks: Track[] = [];
  private cameraTrack: Track | undefined;
  private audioTrack: Track | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private ts = 0;
  private keyframeDue = true;
  /** The codec and payload type the server's answer chose for our camera. */
  sendCodec: { codec: 'VP8' | 'H264'; payloadType: number } | undefined;
  private readonly videoSsrc = 1 + Math.floor(Math.random() * 0xfffffff0);
  private readonly audioSsrc = 1 + Math.floor(Math.random() * 0xfffffff0);
  private readonly waiters: { type: SdkSignalFrame_Type; resolve: (f: SdkSignalFrame) => void }[] = [];
  closeCode: number | undefined;

  private constructor(url: string, token: string, private readonly options: HeadlessOptions) {
    this.ws = new WebSocket(url, ['_aws_wt_session', token]);
    this.ws.on('message', (data: Buffer) => {
      // Byte 0 is the frame-type prefix; a frame starts with field 1 (type) as a varint: 0x08 <type>.
      if (this.options.ignoreAudioMetadata && data[1] === 0x08 && data[2] === SdkSignalFrame_Type.AUDIO_METADATA) return;
      const frame = fromBinary(SdkSignalFrameSchema, new Uint8Array(data.subarray(1)));
      this.frames.push(frame);
      // Long load runs receive AUDIO_METADATA 5 times a second: keep the recent history only.
      if (this.frames.length > 2000) this.frames.splice(0, 1000);
      for (const w of [...this.waiters]) {
        if (w.type === frame.type) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
    });
  }

  /**
   * Joins and negotiates media. libdatachannel as the offerer fails DTLS when the answerer's
   * handshake arrives before the answer does (browsers buffer it), so a join whose connection
   * closes before it is up is retried as the SDK would: a new session, same audio_session_id.
   */
  static async join(meeting: Meeting, attendee: Attendee, options: HeadlessOptions = {}): Promise<HeadlessClient> {
    const audioSessionId = options.audioSessionId ?? BigInt(Math.floor(Math.random() * 2 ** 32));
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const client = new HeadlessClient(`${meeting.MediaPlacement!.SignalingUrl}?X-Chime-Control-Protocol-Version=3`, attendee.JoinToken!, { ...options, audioSessionId });
      try {
        await client.joinOnce(meeting);
        return client;
      } catch (error) {
        lastError = error;
        await client.close();
      }
    }
    throw lastError;
  }

  private async joinOnce(meeting: Meeting): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.send({ type: SdkSignalFrame_Type.PING_PONG, pingPong: { type: SdkPingPongType.PING, pingId: 1 } });
    // Like the SDK, keep pinging: the server drops a session that stays silent for 45 s.
    let pingId = 1;
    this.pingTimer = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.send({ type: SdkSignalFrame_Type.PING_PONG, pingPong: { type: SdkPingPongType.PING, pingId: ++pingId } });
    }, 10_000);
    const index = this.next(SdkSignalFrame_Type.INDEX);
    this.send({
      type: SdkSignalFrame_Type.JOIN,
      join: { protocolVersion: 2, flags: SdkJoinFlags.HAS_STREAM_UPDATE, audioSessionId: this.options.audioSessionId!, clientDetails: { clientSource: 'chorus-headless' } },
    });
    await index;
    await this.subscribe(meeting.MediaPlacement!.AudioHostUrl ?? '');
    await this.connected();
  }

  next(type: SdkSignalFrame_Type, timeoutMs = 10_000): Promise<SdkSignalFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${SdkSignalFrame_Type[type]} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ type, resolve: (f) => {
        clearTimeout(timer);
        resolve(f);
      } });
    });
  }

  /** Stream ids of the latest INDEX, minus this client's own. */
  latestSources(ownAttendeeId?: string): number[] {
    const index = [...this.frames].reverse().find((f) => f.type === SdkSignalFrame_Type.INDEX)?.index;
    return (index?.sources ?? []).filter((s) => s.attendeeId !== ownAttendeeId).map((s) => s.streamId);
  }

  latestIndex() {
    return [...this.frames].reverse().find((f) => f.type === SdkSignalFrame_Type.INDEX)?.index;
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
      await Promise.race([gathered, new Promise((r) => setTimeout(r, 2000))]);
    }
    const offer = pc.localDescription()!.sdp;
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
    try {
      pc.setRemoteDescription(frame.suback!.sdpAnswer, 'answer');
    } catch (error) {
      throw new Error(`${(error as Error).message} (peer states: ${this.stateLog.join(' ') || 'none'}; now ${pc.state()}/${pc.signalingState()})`, { cause: error });
    }
    const cameraSection = frame.suback!.sdpAnswer.split(/\r\nm=/).find((m) => /\r\na=mid:1\r\n/.test(m));
    const pt = Number(/^video \d+ \S+ (\d+)/.exec(cameraSection ?? '')?.[1]);
    this.sendCodec = pt === CODEC_PT.H264 ? { codec: 'H264', payloadType: pt } : { codec: 'VP8', payloadType: CODEC_PT.VP8 };
    if (this.options.publishVideo) this.startPublishing();
    const microphone = this.options.microphone ?? (this.options.toneHz !== undefined ? toneMicrophone(this.options.toneHz) : undefined);
    if (this.options.audioSender && !this.audioSource) {
      this.audioSource = this.options.audioSender({
        send: (packet) => { if (this.audioTrack?.isOpen()) this.audioTrack.sendMessageBinary(packet); },
        ssrc: this.audioSsrc, payloadType: 111, audioLevelExtensionId: this.options.audioLevelExtensionId,
        dtx: opusDtxRequested(frame.suback!.sdpAnswer, 111),
      });
    } else if (microphone && !this.audioTimer) void this.startSpeaking(microphone, opusDtxRequested(frame.suback!.sdpAnswer, 111));
    return frame;
  }

  private createPeerConnection(slots: number): PeerConnection {
    const pc = new PeerConnection('headless', { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    this.pc = pc;
    // The state log explains failures. Registering this callback also matters: without any
    // callback on it, a client PeerConnection was seen closing on its own before its answer
    // arrived (about 1 run in 4 once the mixer ran); with one, 40 runs passed.
    const born = performance.now();
    pc.onStateChange((state) => {
      this.stateLog.push(`${Math.round(performance.now() - born)}ms:${state}`);
    });
    const audio = new Audio('0', 'SendRecv');
    audio.addOpusCodec(111);
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
        // guarded: exceptions must not escape a native callback
      }
    });
    this.audioTrack = audioTrack;
    const camera = new Video('1', this.options.publishVideo ? 'SendRecv' : 'Inactive');
    this.addCodecs(camera);
    if (this.options.publishVideo) camera.addSSRC(this.videoSsrc, 'headless', 'cam', 'cam');
    this.cameraTrack = pc.addTrack(camera);
    this.tracks.push(this.cameraTrack);
    for (let i = 0; i < slots; i++) {
      const mid = String(2 + i);
      const video = new Video(mid, 'RecvOnly');
      this.addCodecs(video);
      const track = pc.addTrack(video);
      this.tracks.push(track);
      track.onMessage((msg: Buffer) => {
        try {
          if (isRtcpPacket(msg)) return this.onRtcp(msg);
          this.received.set(mid, (this.received.get(mid) ?? 0) + 1);
          this.options.onRtp?.('video', mid, msg);
          const info = parseRtp(msg);
          if (info) this.lastExtensions = new Map(readHeaderExtensions(msg, info).map((e) => [e.id, [...e.data]]));
          const sent = info ? this.sentAt.get(msg.readUInt32BE(info.payloadOffset + 2)) : undefined;
          if (sent !== undefined) this.latenciesMs.push(performance.now() - sent);
        } catch {
          // guarded: exceptions must not escape a native callback
        }
      });
    }
    this.cameraTrack.onMessage((msg: Buffer) => this.onRtcp(msg));
    return pc;
  }

  private addCodecs(video: Video): void {
    for (const codec of this.options.codecs ?? ['VP8']) {
      if (codec === 'VP8') video.addVP8Codec(CODEC_PT.VP8);
      else video.addH264Codec(CODEC_PT.H264);
    }
    if (this.options.videoOrientationId !== undefined) video.parseSdpLine(`a=extmap:${this.options.videoOrientationId} urn:3gpp:video-orientation`);
  }

  private onRtcp(msg: Buffer): void {
    try {
      if (isRtcpPacket(msg) && parseRtcp(msg).some((m) => m.kind === 'pli' || m.kind === 'fir')) {
        this.pliReceived++;
        this.keyframeDue = true;
        this.videoSource?.requestKeyframe();
      }
    } catch {
      // guarded: exceptions must not escape a native callback
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
    if (this.options.videoSender) {
      this.videoSource ??= this.options.videoSender({
        send: (packet) => { if (this.cameraTrack?.isOpen()) this.cameraTrack.sendMessageBinary(packet); },
        ssrc: this.videoSsrc, payloadType: this.sendCodec?.payloadType ?? CODEC_PT.VP8,
      });
      return;
    }
    clearInterval(this.sendTimer);
    const pps = this.options.packetsPerSecond ?? 100;
    const bytes = this.options.packetBytes ?? 1000;
    this.sendTimer = setInterval(() => {
      if (!this.cameraTrack?.isOpen()) return;
      const key = this.keyframeDue;
      this.keyframeDue = false;
      const payload = Buffer.alloc(bytes);
      const h264 = this.sendCodec?.codec === 'H264';
      if (h264) {
        // A single NAL unit: IDR slice (5) for keyframes, non-IDR slice (1) otherwise.
        payload[0] = key ? 0x65 : 0x41;
      } else {
        // VP8 payload descriptor: S=1, partition 0; frame tag P bit 0 marks a keyframe.
        payload[0] = 0x10;
        payload[1] = key ? 0x00 : 0x01;
      }
      const seq = this.seq++ & 0xffff;
      // A send-time tag inside the payload lets the receiver measure latency through the SFU.
      const tag = (this.videoSsrc ^ Math.imul(this.seq, 7919)) >>> 0;
      payload.writeUInt32BE(tag, 2);
      this.sentAt.set(tag, performance.now());
      if (this.sentAt.size > 50_000) this.sentAt.delete(this.sentAt.keys().next().value!);
      this.ts = (this.ts + 9000 / 10) >>> 0;
      try {
        const orientation = this.options.videoOrientationId;
        this.cameraTrack.sendMessageBinary(buildRtp({
          payloadType: this.sendCodec?.payloadType ?? CODEC_PT.VP8, sequenceNumber: seq, timestamp: this.ts, ssrc: this.videoSsrc, marker: true, payload,
          // Rotation 90° (CVO byte 0x01), plus an id nobody negotiated, which the SFU must drop.
          extensions: orientation === undefined ? [] : [{ id: orientation, data: Buffer.from([0x01]) }, { id: 14, data: Buffer.from([0xaa, 0xbb]) }],
        }));
      } catch {
        // a closed track
      }
    }, 1000 / pps);
  }

  /** Speaks `microphone`; with `dtx` (the answer's usedtx=1) silence goes out as a browser sends it: a DTX frame every 400 ms. */
  private async startSpeaking(microphone: Microphone, dtx: boolean): Promise<void> {
    const encoder = await createOpusEncoder();
    const ssrc = this.audioSsrc;
    const levelId = this.options.audioLevelExtensionId;
    const started = performance.now();
    let frame = 0;
    let seq = 0;
    let silentRun = 0;
    const sendDue = (): void => {
      // Catch up on frames the timer was late for, so the stream keeps its 50 frames a second.
      const due = Math.floor((performance.now() - started) / 20);
      while (frame <= due) {
        if (!this.audioTrack?.isOpen()) return;
        const pcm = microphone.frame(frame);
        const level = pcm ? levelDbov(pcm) : 127;
        // Silence: a silence frame, then (with DTX) one 1-byte DTX frame every 400 ms and nothing between.
        const silent = silentRun;
        silentRun = pcm ? 0 : silentRun + 1;
        const payload = pcm ? Buffer.from(encoder.encode(pcm)) : silencePayload(silent, dtx);
        if (payload) {
          try {
            this.audioTrack.sendMessageBinary(buildRtp({
              payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: (frame * 960) >>> 0, ssrc, payload,
              // RFC 6464: V bit clear, level in -dBov.
              extensions: levelId === undefined ? [] : [{ id: levelId, data: Buffer.from([level & 0x7f]) }],
            }));
            if (pcm) microphone.onSent?.(frame, performance.now());
          } catch {
            // a closed track
          }
          seq++;
        }
        frame++;
      }
    };
    this.audioTimer = setInterval(sendDue, 20);
  }

  /** Mutes or unmutes this attendee, as the SDK does: an AUDIO_CONTROL frame. */
  setMuted(muted: boolean): void {
    this.send({ type: SdkSignalFrame_Type.AUDIO_CONTROL, audioControl: { muted } });
  }

  send(frame: Parameters<typeof encodeSignalFrame>[0]): void {
    this.ws.send(encodeSignalFrame(frame));
  }

  async close(): Promise<void> {
    clearInterval(this.sendTimer);
    clearInterval(this.audioTimer);
    clearInterval(this.pingTimer);
    this.audioSource?.stop();
    this.videoSource?.stop();
    this.pc?.close();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await new Promise((r) => setTimeout(r, 10));
  }
}

