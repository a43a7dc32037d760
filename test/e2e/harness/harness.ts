/**
 * Test harness page: the real, unmodified amazon-chime-sdk-js joining a Chorus
 * meeting with Chromium's fake camera and microphone. Tests drive it through
 * window.harness and read what the SDK reports.
 */
import {
  ConsoleLogger,
  DefaultDeviceController,
  DefaultMeetingSession,
  LogLevel,
  MeetingSessionConfiguration,
  VideoCodecCapability,
  VideoPriorityBasedPolicy,
  VideoPriorityBasedPolicyConfig,
  ServerSideNetworkAdaption,
  VideoPreference,
  VideoPreferences,
  TargetDisplaySize,
  type AudioVideoObserver,
  type MeetingSessionStatus,
  type VideoTileState,
} from 'amazon-chime-sdk-js';
import { oscillatorStream, receivedAudio, recordVolumes, type VolumeSample } from './harness-audio.js';
import { dataMessages, sendData, watchDataMessages } from './harness-data.js';
import { encoderUpdateRace } from './harness-encoder.js';

interface TileInfo {
  tileId: number;
  attendeeId: string;
  isContent: boolean;
  local: boolean;
}

const state = {
  started: false,
  stopped: undefined as undefined | { code: number; name: string },
  tiles: new Map<number, TileInfo>(),
  presence: new Map<string, boolean>(),
  canStartLocalVideo: true,
  videoSendUnavailable: false,
  events: [] as string[],
  contentShare: [] as string[],
  errors: [] as string[],
  /** performance.now() when audioVideo.start() was called. */
  startCalledAt: undefined as number | undefined,
  /** performance.now() of each remote tile's first presented frame. */
  firstFrameAt: new Map<number, number>(),
};

let session: DefaultMeetingSession | undefined;
/** The priority policy this page joined with, for VideoPreferences. */
let priorityPolicy: VideoPriorityBasedPolicy | undefined;

/**
 * Every RTCPeerConnection the page creates, newest last. The SDK builds a new one for each
 * (re)connection, so tests can tell a renegotiation on the same connection from a reconnect.
 */
const peerConnections: RTCPeerConnection[] = [];
const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    peerConnections.push(this);
  }
};
const volumes: VolumeSample[] = [];
const received = receivedAudio();
let content: MediaStream | undefined;

function videoElementFor(tileId: number): HTMLVideoElement {
  let el = document.getElementById(`tile-${tileId}`) as HTMLVideoElement | null;
  if (!el) {
    el = document.createElement('video');
    el.id = `tile-${tileId}`;
    el.muted = true;
    el.autoplay = true;
    el.playsInline = true;
    el.width = 320;
    document.body.appendChild(el);
    // The moment the first frame of this tile is presented: what a person would first see.
    el.requestVideoFrameCallback?.((now) => {
      if (!state.firstFrameAt.has(tileId)) state.firstFrameAt.set(tileId, now);
    });
  }
  return el;
}

type CodecName = 'vp8' | 'h264' | 'h264High' | 'vp9' | 'av1';

/** How the harness page configures the SDK: the Chime options an app would set. */
interface JoinOptions {
  video?: boolean;
  toneHz?: number;
  dataTopics?: string[];
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** MeetingSessionConfiguration.enableSimulcastForUnifiedPlanChromiumBasedBrowsers. */
  simulcast?: boolean;
  /** MeetingSessionConfiguration.enableSVC. */
  svc?: boolean;
  /** audioVideo.setVideoCodecSendPreferences, in order. */
  sendCodecs?: CodecName[];
  /**
   * MeetingSessionConfiguration.videoDownlinkBandwidthPolicy: 'priority' is VideoPriorityBasedPolicy (the default with
   * simulcast or SVC), which asks for server-side adaptation; 'priority-client' is the same policy set to choose layers itself.
   */
  downlinkPolicy?: 'priority' | 'priority-client';
  /** Content share: audioVideo.setContentShareVideoCodecPreferences, in order. */
  contentSendCodecs?: CodecName[];
  /** Content share: audioVideo.enableSVCForContentShare (the SDK then encodes content in L1T3). */
  contentSvc?: boolean;
}

const CODEC_CAPABILITIES: Record<CodecName, () => VideoCodecCapability> = {
  vp8: () => VideoCodecCapability.vp8(),
  h264: () => VideoCodecCapability.h264ConstrainedBaselineProfile(),
  h264High: () => VideoCodecCapability.h264HighProfile(),
  vp9: () => VideoCodecCapability.vp9Profile0(),
  av1: () => VideoCodecCapability.av1Main(),
};

async function join(
  meeting: unknown,
  attendee: unknown,
  options: JoinOptions = {},
): Promise<void> {
  // WARN by default; INFO or DEBUG shows the SDK's task list, SDPs and timeouts when diagnosing a run.
  const logger = new ConsoleLogger('harness', LogLevel[options.logLevel ?? 'WARN']);
  const deviceController = new DefaultDeviceController(logger);
  const configuration = new MeetingSessionConfiguration(meeting, attendee);
  configuration.enableSimulcastForUnifiedPlanChromiumBasedBrowsers = options.simulcast ?? false;
  configuration.enableSVC = options.svc ?? false;
  if (options.downlinkPolicy) {
    const config = new VideoPriorityBasedPolicyConfig();
    if (options.downlinkPolicy === 'priority-client') config.serverSideNetworkAdaption = ServerSideNetworkAdaption.None;
    const policy = new VideoPriorityBasedPolicy(logger, config);
    // What the app would show as "paused for bandwidth": recorded as events, with the page time.
    policy.addObserver({
      tileWillBePausedByDownlinkPolicy: (tileId: number) => state.events.push(`bandwidthPaused:${tileId}@${Math.round(performance.now())}`),
      tileWillBeUnpausedByDownlinkPolicy: (tileId: number) => state.events.push(`bandwidthResumed:${tileId}@${Math.round(performance.now())}`),
    });
    configuration.videoDownlinkBandwidthPolicy = policy;
    priorityPolicy = policy;
  }
  session = new DefaultMeetingSession(configuration, logger, deviceController);
  const av = session.audioVideo;
  if (options.sendCodecs) av.setVideoCodecSendPreferences!(options.sendCodecs.map((c) => CODEC_CAPABILITIES[c]()));
  if (options.contentSendCodecs) av.setContentShareVideoCodecPreferences!(options.contentSendCodecs.map((c) => CODEC_CAPABILITIES[c]()));
  if (options.contentSvc) av.enableSVCForContentShare!(true);
  const observer: AudioVideoObserver = {
    audioVideoDidStartConnecting: (reconnecting: boolean) => {
      if (reconnecting) state.events.push('reconnecting');
    },
    audioVideoDidStart: () => {
      state.started = true;
      state.events.push('started');
    },
    audioVideoDidStop: (status: MeetingSessionStatus) => {
      state.stopped = { code: status.statusCode(), name: String(status.statusCode()) };
      state.events.push(`stopped:${status.statusCode()}`);
    },
    videoTileDidUpdate: (tile: VideoTileState) => {
      if (!tile.boundAttendeeId || tile.tileId === null) return;
      state.tiles.set(tile.tileId, { tileId: tile.tileId, attendeeId: tile.boundAttendeeId, isContent: tile.isContent, local: tile.localTile });
      if (!tile.localTile) av.bindVideoElement(tile.tileId, videoElementFor(tile.tileId));
    },
    videoTileWasRemoved: (tileId: number) => {
      state.tiles.delete(tileId);
      document.getElementById(`tile-${tileId}`)?.remove();
    },
    videoAvailabilityDidChange: (availability) => {
      state.canStartLocalVideo = availability.canStartLocalVideo;
    },
    videoSendDidBecomeUnavailable: () => {
      state.videoSendUnavailable = true;
    },
  };
  av.addObserver(observer);
  av.addContentShareObserver({
    contentShareDidStart: () => state.contentShare.push('started'),
    contentShareDidStop: () => state.contentShare.push('stopped'),
  });
  av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present) => {
    state.presence.set(attendeeId, present);
  });
  recordVolumes(av, volumes);
  if (options.toneHz !== undefined) {
    await av.startAudioInput(oscillatorStream(options.toneHz));
  } else {
    const audioInputs = await av.listAudioInputDevices();
    if (audioInputs[0]) await av.startAudioInput(audioInputs[0].deviceId);
  }
  if (options.video) {
    const videoInputs = await av.listVideoInputDevices();
    if (videoInputs[0]) await av.startVideoInput(videoInputs[0].deviceId);
  }
  const audioElement = document.createElement('audio');
  document.body.appendChild(audioElement);
  await av.bindAudioElement(audioElement);
  if (options.dataTopics) watchDataMessages(av, options.dataTopics);
  state.startCalledAt = performance.now();
  av.start();
  // The SDK puts the meeting's audio stream on the element once the peer connection has it.
  const attachWhenPlaying = (): void => {
    if (audioElement.srcObject instanceof MediaStream && audioElement.srcObject.getAudioTracks().length > 0) received.attach(audioElement);
    else setTimeout(attachWhenPlaying, 100);
  };
  attachWhenPlaying();
  if (options.video) {
    await new Promise<void>((resolve) => {
      const check = () => (state.started ? resolve() : setTimeout(check, 50));
      check();
    });
    av.startLocalVideoTile();
  }
}

/** VideoPriorityBasedPolicy.chooseRemoteVideoSources, as an app's layout would call it. */
function preferVideos(preferences: { attendeeId: string; priority: number; size: 'Low' | 'Medium' | 'High' | 'Maximum' }[]): void {
  const mutable = VideoPreferences.prepare();
  for (const p of preferences) mutable.add(new VideoPreference(p.attendeeId, p.priority, TargetDisplaySize[p.size]));
  priorityPolicy?.chooseRemoteVideoSources(mutable.build());
}

function startVideo(): void {
  session?.audioVideo.startLocalVideoTile();
}

function stopVideo(): void {
  session?.audioVideo.stopLocalVideoTile();
}

/**
 * Shares a canvas that changes every frame. `busy` scatters small random squares over it each
 * frame, so the encoder spends its whole budget (as on a shared video), not a trickle.
 */
async function shareCanvas(options: { busy?: boolean } = {}): Promise<void> {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const ctx = canvas.getContext('2d')!;
  let n = 0;
  setInterval(() => {
    ctx.fillStyle = `hsl(${(n++ * 7) % 360} 70% 50%)`;
    ctx.fillRect(0, 0, 640, 360);
    if (options.busy) {
      for (let i = 0; i < 300; i++) {
        ctx.fillStyle = `hsl(${Math.floor(Math.random() * 360)} 80% ${Math.floor(Math.random() * 100)}%)`;
        ctx.fillRect(Math.floor(Math.random() * 620), Math.floor(Math.random() * 340), 20, 20);
      }
    }
    ctx.fillStyle = '#fff';
    ctx.font = '48px sans-serif';
    ctx.fillText(`content ${n}`, 40, 180);
  }, 66);
  content = canvas.captureStream(15);
  await session!.audioVideo.startContentShare(content);
}

function stopContentShare(): void {
  session?.audioVideo.stopContentShare();
}

/** Leaves as an app does: stop any content share, then the meeting session. */
async function leave(): Promise<void> {
  session?.audioVideo.stopContentShare();
  session?.audioVideo.stop();
}

/** Decoding facts for each remote tile, from its video element. */
function remoteTiles(): { tileId: number; attendeeId: string; isContent: boolean; width: number; height: number; frames: number; firstFrameAt?: number }[] {
  return [...state.tiles.values()].filter((t) => !t.local).map((t) => {
    const el = document.getElementById(`tile-${t.tileId}`) as HTMLVideoElement | null;
    return {
      tileId: t.tileId,
      attendeeId: t.attendeeId,
      isContent: t.isContent,
      width: el?.videoWidth ?? 0,
      height: el?.videoHeight ?? 0,
      frames: el?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
      firstFrameAt: state.firstFrameAt.get(t.tileId),
    };
  });
}

/** A summary of the SDK's RTCPeerConnection statistics, for diagnosing media flow. */
async function rtcStats(): Promise<Record<string, unknown>[]> {
  const report = await session?.audioVideo.getRTCPeerConnectionStats();
  const out: Record<string, unknown>[] = [];
  const candidates = new Map<string, string>();
  const codecs = new Map<string, string>();
  report?.forEach((s: Record<string, unknown>) => {
    if (s.type === 'local-candidate' || s.type === 'remote-candidate') candidates.set(String(s.id), `${String(s.candidateType)}:${String(s.address)}:${String(s.port)}`);
    if (s.type === 'codec') codecs.set(String(s.id), `${String(s.mimeType)}${s.sdpFmtpLine ? ` ${String(s.sdpFmtpLine)}` : ''}`);
  });
  report?.forEach((s: Record<string, unknown>) => {
    if (s.type === 'candidate-pair' && s.nominated) {
      out.push({ pair: `${candidates.get(String(s.localCandidateId))} -> ${candidates.get(String(s.remoteCandidateId))}`, selected: s.state, availableIncomingBitrate: s.availableIncomingBitrate });
    }
    if (s.type === 'outbound-rtp' || s.type === 'inbound-rtp' || (s.type === 'candidate-pair' && s.nominated)) {
      const { type, kind, mid, packetsSent, packetsReceived, framesEncoded, framesDecoded, qualityLimitationReason, targetBitrate, state, pliCount, nackCount, bytesReceived, bytesSent, active, frameWidth, frameHeight, scalabilityMode } = s;
      const codec = s.codecId ? codecs.get(String(s.codecId)) : undefined;
      out.push({ type, kind, mid, codec, packetsSent, packetsReceived, framesEncoded, framesDecoded, qualityLimitationReason, targetBitrate, state, pliCount, nackCount, bytesReceived, bytesSent, active, frameWidth, frameHeight, scalabilityMode });
    }
  });
  return out;
}

/** The video every open peer connection of the page sends (a content share's own connection included). */
async function sentVideo(): Promise<{ codec?: string; scalabilityMode?: string; framesEncoded?: number }[]> {
  const out: { codec?: string; scalabilityMode?: string; framesEncoded?: number }[] = [];
  for (const pc of peerConnections.filter((p) => p.connectionState !== 'closed')) {
    const report = await pc.getStats();
    const codecs = new Map<string, string>();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'codec') codecs.set(String(s.id), String(s.mimeType));
    });
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && Number(s.packetsSent ?? 0) > 0) {
        out.push({ codec: codecs.get(String(s.codecId)), scalabilityMode: s.scalabilityMode as string | undefined, framesEncoded: s.framesEncoded as number | undefined });
      }
    });
  }
  return out;
}

/** How many peer connections the page has made (content share sessions included), and the state of the newest open one. */
function negotiation(): { peerConnections: number; signalingState: string; stoppingTransceivers: number } {
  const pc = peerConnections.filter((p) => p.connectionState !== 'closed').at(-1);
  return {
    peerConnections: peerConnections.length,
    signalingState: pc?.signalingState ?? 'none',
    // A stopped transceiver stays listed until an offer/answer that rejects its m-section completes.
    stoppingTransceivers: pc?.getTransceivers().filter((t) => t.direction === 'stopped').length ?? 0,
  };
}

function snapshot() {
  return {
    started: state.started,
    startCalledAt: state.startCalledAt,
    stopped: state.stopped,
    canStartLocalVideo: state.canStartLocalVideo,
    videoSendUnavailable: state.videoSendUnavailable,
    presence: Object.fromEntries(state.presence),
    localTile: [...state.tiles.values()].some((t) => t.local),
    remote: remoteTiles(),
    events: state.events,
    contentShare: state.contentShare,
  };
}

function setMuted(muted: boolean): void {
  if (muted) session?.audioVideo.realtimeMuteLocalAudio();
  else session?.audioVideo.realtimeUnmuteLocalAudio();
}

const measureAudio = (frequencies: number[], ms: number) => received.measure(frequencies, ms);
const volumeSamples = (since: number) => volumes.filter((v) => v.at >= since);
const now = () => performance.now();

(window as unknown as Record<string, unknown>).harness = { setMuted, measureAudio, volumeSamples, now, join, preferVideos, startVideo, stopVideo, shareCanvas, stopContentShare, leave, snapshot, negotiation, rtcStats, sentVideo, sendData, dataMessages, encoderUpdateRace };
