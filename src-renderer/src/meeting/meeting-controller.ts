import {
  DefaultDeviceController,
  DefaultMeetingSession,
  LogLevel,
  MeetingSessionConfiguration,
  type AudioVideoFacade,
  type AudioVideoObserver,
  type DataMessage,
  type DeviceChangeObserver,
  type EventName,
  type EventObserver,
  type MeetingSessionStatus,
  type VideoTileState,
} from 'amazon-chime-sdk-js';
import type { LiveState } from '../../../src-main/shared/app-api.js';
import { createAppApi, type AppApi, type AttendeeAuth, type JoinInfo } from '../api/app-api';
import { t } from '../i18n/i18n';
import { baseAttendeeId, displayNameOf, isContentAttendee } from '../lib/names';
import { savePrefs } from '../lib/prefs';
import { useChatStore } from '../state/chat-store';
import { useConnectionStore } from '../state/connection-store';
import { toOptions, useDevicesStore, type DeviceKind } from '../state/devices-store';
import { useLiveStore } from '../state/live-store';
import { useMediaHealthStore } from '../state/media-health-store';
import { useRosterStore } from '../state/roster-store';
import { useSessionStore, type EndReason, type MeetingIdentity } from '../state/session-store';
import { useTilesStore } from '../state/tiles-store';
import { useUiStore } from '../state/ui-store';
import { startConnectionWatch } from './connection-watch';
import { saveBandwidth, SdkLogger, SpeakerPolicy } from './sdk-tuning';
import { SerialUplinkPolicy } from './serial-uplink-policy';
import { endReasonFor } from './end-reasons';
import { startLiveSync, type LiveSync } from './live-sync';
import { CHAT_LIFETIME_MS, CHAT_TOPIC, decodeChat, decodeReaction, encodeChat, encodeReaction, HOST_CONTROL_TOPIC, isHostMute, REACTION_TOPIC, SendBudget } from './messages';
import { noticeLiveChanges, noticePresence, noticeReconnecting } from './notices';

/**
 * The one module that talks to amazon-chime-sdk-js. SDK observers write into the
 * zustand stores; components read the stores and call the functions exported
 * here. It is loaded on demand with the meeting view, keeping the SDK out of
 * the initial bundle. The app API side (live state, moderation) runs beside it:
 * live-sync.ts, connection-watch.ts, moderation.ts.
 */

interface Active {
  session: DefaultMeetingSession;
  av: AudioVideoFacade;
  identity: MeetingIdentity;
  join: JoinInfo;
  options: StartOptions;
  api: AppApi;
  audioElement: HTMLAudioElement;
  noiseSuppression: boolean;
  endingForAll: boolean;
  /** "Try again" replaced this session with a new one: its end is not the meeting's end. */
  replaced: boolean;
  sdkReconnecting: boolean;
  /** The SDK's signaling socket closed unexpectedly; cleared when the SDK has (re)connected. */
  signalingDropped: boolean;
  /** Presence before this is the meeting as we found it, not news (see the presence handler). */
  settled: boolean;
  loweredOwnHand: boolean;
  chatBudget: SendBudget;
  reactionBudget: SendBudget;
  timer: ReturnType<typeof setInterval>;
  volumeSubscriptions: Set<string>;
  live: LiveSync | undefined;
  /** Remote cameras this app paused because its own connection is poor; resumed once it is good again. */
  pausedForBandwidth: Set<number>;
  cleanup: (() => void)[];
}

let active: Active | undefined;

export interface StartOptions {
  identity: MeetingIdentity;
  startMuted: boolean;
  cameraOn: boolean;
  noiseSuppression: boolean;
}

/** If the server never lists this attendee (it always does), presence this long after connecting is news anyway. */
const SETTLE_FALLBACK_MS = 3_000;

/** Browser audio processing stands in for cloud echo reduction and noise suppression models. */
function audioConstraints(deviceId: string | undefined, processing: boolean): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: processing,
    noiseSuppression: processing,
    autoGainControl: processing,
  };
}

/** The chosen camera, else the first one; throws when there is none. */
function cameraId(): string {
  const { selected, lists } = useDevicesStore.getState();
  const id = selected.videoinput ?? lists.videoinput[0]?.deviceId;
  if (!id) throw new Error(t.meeting.noCamera);
  return id;
}

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The credentials the app's own requests carry. */
export function activeAuth(): { api: AppApi; code: string; auth: AttendeeAuth; selfId: string } | undefined {
  const a = active;
  if (!a) return undefined;
  return { api: a.api, code: a.identity.meetingCode, auth: { attendeeId: a.identity.selfAttendeeId, joinToken: a.identity.joinToken }, selfId: a.identity.selfAttendeeId };
}

export function noteLoweredOwnHand(): void {
  if (active) active.loweredOwnHand = true;
}

export async function startMeeting(join: JoinInfo, options: StartOptions, keepState = false): Promise<void> {
  if (active) await leave();
  if (!keepState) {
    useRosterStore.getState().reset();
    useChatStore.getState().reset();
    useLiveStore.getState().reset();
  }
  useTilesStore.getState().reset();
  useMediaHealthStore.getState().reset();
  useConnectionStore.getState().reset();
  const session = useSessionStore.getState();
  session.begin(options.identity, { muted: options.startMuted, cameraOn: options.cameraOn });

  const logger = new SdkLogger('chorus', LogLevel.WARN);
  const deviceController = new DefaultDeviceController(logger, { enableWebAudio: false });
  const configuration = new MeetingSessionConfiguration(join.Meeting, join.Attendee);
  configuration.videoUplinkBandwidthPolicy = new SerialUplinkPolicy(join.Attendee.AttendeeId, logger);
  const meetingSession = new DefaultMeetingSession(configuration, logger, deviceController);
  const av = meetingSession.audioVideo;
  const audioElement = document.createElement('audio');
  audioElement.autoplay = true;
  audioElement.hidden = true;
  document.body.appendChild(audioElement);

  const a: Active = {
    session: meetingSession,
    av,
    identity: options.identity,
    join,
    options,
    api: createAppApi(options.identity.serverUrl),
    audioElement,
    noiseSuppression: options.noiseSuppression,
    endingForAll: false,
    replaced: false,
    sdkReconnecting: false,
    signalingDropped: false,
    settled: false,
    loweredOwnHand: false,
    chatBudget: new SendBudget(10, 10_000),
    reactionBudget: new SendBudget(5, 5_000),
    timer: setInterval(() => {
      useChatStore.getState().expireReactions(Date.now());
      useRosterStore.getState().expireDropped(Date.now());
    }, 500),
    volumeSubscriptions: new Set(),
    live: undefined,
    pausedForBandwidth: new Set(),
    cleanup: [],
  };
  active = a;
  wireObservers(a);
  // Closing the tab or window leaves properly, so the others see us go at once.
  const onPageHide = (): void => {
    if (active === a) a.av.stop();
  };
  window.addEventListener('pagehide', onPageHide);
  a.cleanup.push(() => window.removeEventListener('pagehide', onPageHide));

  const devices = useDevicesStore.getState();
  await refreshDevices(a);
  try {
    await av.startAudioInput(audioConstraints(devices.selected.audioinput, options.noiseSuppression));
  } catch (error) {
    useUiStore.getState().toast(t.meeting.micUnavailable(describe(error)), 'warning');
  }
  if (options.cameraOn) {
    try {
      await av.startVideoInput(cameraId());
    } catch {
      useSessionStore.getState().setCameraOn(false);
      useUiStore.getState().toast(t.meeting.cameraUnavailableJoined, 'warning');
    }
  }
  const speaker = useDevicesStore.getState().selected.audiooutput;
  if (speaker && useDevicesStore.getState().canChooseSpeaker) await av.chooseAudioOutput(speaker).catch(() => undefined);
  await av.bindAudioElement(audioElement);
  if (options.startMuted) av.realtimeMuteLocalAudio();
  av.start();
  startSideChannels(a);
}

/** The live state and the connection watch run beside the SDK for the session's life. */
function startSideChannels(a: Active): void {
  const watch = startConnectionWatch({
    // async: while the SDK rebuilds its peer connection, asking for stats may throw rather than reject.
    stats: async () => (await a.av.getRTCPeerConnectionStats()) as RTCStatsReport | null,
    live: () => a.live,
    sdkReconnecting: () => a.sdkReconnecting,
    signalingDropped: () => a.signalingDropped,
  });
  // The SDK tells its event observers the moment its signaling socket drops; its own
  // "reconnecting" comes after a backoff, or later still behind a session update in progress.
  const events: EventObserver = {
    eventDidReceive: (name: EventName) => {
      if (name !== 'signalingDropped' || active !== a) return;
      a.signalingDropped = true;
      watch.poke();
    },
  };
  a.session.eventController.addObserver(events);
  a.live = startLiveSync({
    api: a.api,
    meetingCode: a.identity.meetingCode,
    auth: { attendeeId: a.identity.selfAttendeeId, joinToken: a.identity.joinToken },
    connection: () => watch.tracker.level,
    onState: (state) => onLiveState(a, state),
    onGone: (kind) => {
      // The SDK says "removed" or "ended" itself when it can; this covers a server that restarted without it.
      setTimeout(() => {
        if (active === a) finish(a, kind === 'attendee' ? 'removed' : 'ended');
      }, 5_000);
    },
  });
  const unsubscribe = useConnectionStore.subscribe((state, prev) => {
    if (state.level !== prev.level && active === a) saveBandwidth(a.av, a.pausedForBandwidth);
  });
  // Pinning someone brings their camera back even on a poor connection.
  const unsubscribePin = useUiStore.subscribe((state, prev) => {
    if (state.pinned !== prev.pinned && active === a) saveBandwidth(a.av, a.pausedForBandwidth);
  });
  a.cleanup.push(() => {
    a.session.eventController.removeObserver(events);
    unsubscribe();
    unsubscribePin();
    watch.stop();
    a.live?.stop();
  });
}

function onLiveState(a: Active, state: LiveState): void {
  if (active !== a) return;
  const prev = useLiveStore.getState().live;
  useLiveStore.getState().set(state);
  noticeLiveChanges(prev, state, a.identity.selfAttendeeId, a.loweredOwnHand);
  a.loweredOwnHand = false;
  // A lock holds whatever path unmuted us (a reload with a lock, a shortcut pressed in between).
  if (state.self.audioLocked && !a.av.realtimeIsLocalAudioMuted()) a.av.realtimeMuteLocalAudio();
}

function isAudioLocked(): boolean {
  return useLiveStore.getState().live?.self.audioLocked ?? false;
}

function wireObservers(a: Active): void {
  const { av } = a;
  const selfId = a.identity.selfAttendeeId;
  const observer: AudioVideoObserver = {
    audioVideoDidStartConnecting: (reconnecting) => {
      a.sdkReconnecting = reconnecting;
      useSessionStore.getState().connecting(reconnecting);
    },
    audioVideoDidStart: () => {
      a.sdkReconnecting = false;
      a.signalingDropped = false;
      if (!a.settled) setTimeout(() => (a.settled = true), SETTLE_FALLBACK_MS);
      useSessionStore.getState().connected();
      if (useSessionStore.getState().cameraOn && !useSessionStore.getState().videoCapacityReached) av.startLocalVideoTile();
    },
    audioVideoDidStop: (status: MeetingSessionStatus) => {
      if (a.replaced) return;
      const reason = a.endingForAll ? 'ended' : endReasonFor(status.statusCode());
      finish(a, reason, a.endingForAll ? t.end.endedByYou : undefined);
    },
    videoTileDidUpdate: (tile: VideoTileState) => {
      if (tile.tileId === null || !tile.boundAttendeeId) return;
      useTilesStore.getState().upsert({
        tileId: tile.tileId,
        attendeeId: tile.boundAttendeeId,
        local: tile.localTile,
        content: tile.isContent,
        hasVideo: Boolean(tile.boundVideoStream),
        paused: tile.paused,
        poorConnection: tile.poorConnection,
      });
      if (!tile.isContent) useRosterStore.getState().setVideo(tile.boundAttendeeId, Boolean(tile.boundVideoStream));
      // A camera that appears while the connection is poor starts paused too.
      if (!tile.localTile && !tile.isContent && tile.boundVideoStream && useConnectionStore.getState().level === 'poor') saveBandwidth(av, a.pausedForBandwidth);
    },
    videoTileWasRemoved: (tileId: number) => {
      a.pausedForBandwidth.delete(tileId);
      const tile = useTilesStore.getState().tiles[tileId];
      if (tile && !tile.content) useRosterStore.getState().setVideo(tile.attendeeId, false);
      useTilesStore.getState().remove(tileId);
    },
    videoAvailabilityDidChange: (availability) => {
      useSessionStore.getState().setVideoCapacityReached(!availability.canStartLocalVideo);
    },
    videoSendDidBecomeUnavailable: () => {
      useSessionStore.getState().setVideoCapacityReached(true);
      useSessionStore.getState().setCameraOn(false);
      useUiStore.getState().toast(t.meeting.videoCapacityToast, 'warning');
    },
  };
  av.addObserver(observer);
  a.cleanup.push(() => av.removeObserver(observer));

  av.addContentShareObserver({
    contentShareDidStart: () => useSessionStore.getState().setSharing(true),
    contentShareDidStop: () => useSessionStore.getState().setSharing(false),
  });

  av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present, externalUserId, dropped) => {
    const roster = useRosterStore.getState();
    const before = roster.attendees[attendeeId];
    roster.presence(attendeeId, present, externalUserId, Date.now(), Boolean(dropped));
    if (isContentAttendee(attendeeId)) return;
    // The server's first presence message lists everyone already here, this attendee
    // included, and the SDK reports its entries one after another in one task: once that
    // message is through, every arrival is news, however soon after connecting.
    if (attendeeId === selfId && present && !a.settled) queueMicrotask(() => (a.settled = true));
    if (attendeeId !== selfId && a.settled) {
      const name = displayNameOf(externalUserId, before?.name ?? t.meeting.guest);
      const count = Object.keys(useRosterStore.getState().attendees).length;
      // Someone already listed (a repeat, or back from a dropped connection) has not joined.
      if (present && !before) noticePresence(name, true, count);
      else if (!present && dropped) noticeReconnecting(name);
      else if (!present) noticePresence(name, false, count);
    }
    if (present && !a.volumeSubscriptions.has(attendeeId)) {
      a.volumeSubscriptions.add(attendeeId);
      av.realtimeSubscribeToVolumeIndicator(attendeeId, (id, volume, muted, signal) => useRosterStore.getState().volume(id, volume, muted, signal));
    } else if (!present && !dropped && a.volumeSubscriptions.has(attendeeId)) {
      a.volumeSubscriptions.delete(attendeeId);
      av.realtimeUnsubscribeFromVolumeIndicator(attendeeId);
    }
  });
  av.realtimeSubscribeToMuteAndUnmuteLocalAudio((muted) => {
    if (!muted && isAudioLocked()) {
      av.realtimeMuteLocalAudio();
      return;
    }
    useSessionStore.getState().setMuted(muted);
  });
  av.subscribeToActiveSpeakerDetector(new SpeakerPolicy(), (ids) => useRosterStore.getState().setActiveSpeakers(ids));

  av.realtimeSubscribeToReceiveDataMessage(CHAT_TOPIC, (message: DataMessage) => onChat(a, message));
  // The server (empty sender, which the relay never lets a client claim) tells us the host muted us.
  av.realtimeSubscribeToReceiveDataMessage(HOST_CONTROL_TOPIC, (message: DataMessage) => {
    if (message.senderAttendeeId !== '' || message.throttled || !isHostMute(message.data)) return;
    if (!av.realtimeIsLocalAudioMuted()) av.realtimeMuteLocalAudio();
    useSessionStore.getState().mutedByHost(Date.now());
    useUiStore.getState().toast(t.notices.hostMuted, 'warning');
  });
  av.realtimeSubscribeToReceiveDataMessage(REACTION_TOPIC, (message: DataMessage) => {
    if (message.throttled) return;
    const emoji = decodeReaction(message.data);
    if (!emoji) return;
    const name = message.senderAttendeeId === selfId ? t.chat.you : displayNameOf(message.senderExternalUserId);
    useChatStore.getState().addReaction({ id: newId(), emoji, senderName: name, at: Date.now() });
  });

  const deviceObserver: DeviceChangeObserver = {
    audioInputsChanged: () => void onDevicesChanged(a, 'audioinput'),
    videoInputsChanged: () => void onDevicesChanged(a, 'videoinput'),
    audioOutputsChanged: () => void onDevicesChanged(a, 'audiooutput'),
  };
  av.addDeviceChangeObserver(deviceObserver);
  a.cleanup.push(() => av.removeDeviceChangeObserver(deviceObserver));
}

function onChat(a: Active, message: DataMessage): void {
  const selfId = a.identity.selfAttendeeId;
  const decoded = decodeChat(message.data);
  if (!decoded) return;
  const chat = useChatStore.getState();
  if (message.throttled) {
    // The server refused one of our messages and says so: show it as failed, never drop it silently.
    if (message.senderAttendeeId === selfId) chat.setStatus(decoded.id, 'failed', t.chat.throttled);
    return;
  }
  const own = message.senderAttendeeId === selfId;
  if (own && chat.messages.some((m) => m.id === decoded.id)) return;
  chat.add({
    id: decoded.id,
    senderId: message.senderAttendeeId,
    senderName: own ? a.identity.selfName : displayNameOf(message.senderExternalUserId),
    text: decoded.text,
    timestampMs: message.timestampMs,
    self: own,
    status: 'sent',
  });
}

async function refreshDevices(a: Active): Promise<void> {
  for (const kind of ['audioinput', 'videoinput', 'audiooutput'] as const) await onDevicesChanged(a, kind, true);
}

async function onDevicesChanged(a: Active, kind: DeviceKind, initial = false): Promise<void> {
  if (active !== a) return;
  const list =
    kind === 'audioinput' ? await a.av.listAudioInputDevices() : kind === 'videoinput' ? await a.av.listVideoInputDevices() : await a.av.listAudioOutputDevices();
  const devices = useDevicesStore.getState();
  const before = devices.selected[kind];
  const notice = devices.setList(kind, toOptions(kind, list));
  const after = useDevicesStore.getState().selected[kind];
  if (initial || after === before) return;
  // The device in use went away: fall back, so the call keeps working.
  if (notice) useUiStore.getState().toast(notice, 'warning');
  await applyDevice(a, kind, after);
}

async function applyDevice(a: Active, kind: DeviceKind, deviceId: string | undefined): Promise<void> {
  switch (kind) {
    case 'audioinput':
      await a.av.startAudioInput(audioConstraints(deviceId, a.noiseSuppression));
      return;
    case 'videoinput':
      if (useSessionStore.getState().cameraOn) await a.av.startVideoInput(deviceId ?? cameraId());
      return;
    case 'audiooutput':
      if (useDevicesStore.getState().canChooseSpeaker) await a.av.chooseAudioOutput(deviceId ?? null);
      return;
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown device kind ${String(unreachable)}`);
    }
  }
}

/** Releases everything the session holds; the session's stores stay for the next screen. */
function release(a: Active): void {
  if (active === a) active = undefined;
  clearInterval(a.timer);
  for (const fn of a.cleanup) {
    try {
      fn();
    } catch {
      // Cleanup of a stopped session must not throw into the SDK's callback.
    }
  }
  a.cleanup = [];
  void a.av.stopVideoInput().catch(() => undefined);
  void a.av.stopAudioInput().catch(() => undefined);
  a.audioElement.remove();
}

function finish(a: Active, reason: EndReason, detail?: string): void {
  useSessionStore.getState().ended(reason, detail);
  if (active !== a) return;
  release(a);
  useTilesStore.getState().reset();
  useUiStore.getState().go({ name: 'ended' });
}

// ---- actions for components -------------------------------------------------

export function toggleMute(): void {
  const a = active;
  if (!a) return;
  if (a.av.realtimeIsLocalAudioMuted()) {
    // Held by a host's lock: unmuting is asking.
    if (isAudioLocked()) {
      void askToUnmute();
      return;
    }
    a.av.realtimeUnmuteLocalAudio();
  } else {
    a.av.realtimeMuteLocalAudio();
  }
}

/** Asks the host to be allowed to unmute (once; the button shows it was asked). */
export async function askToUnmute(): Promise<void> {
  const auth = activeAuth();
  const live = useLiveStore.getState().live;
  if (!auth || !live?.self.audioLocked || live.self.askedToUnmute) return;
  try {
    await auth.api.act(auth.code, auth.auth, { kind: 'ask-unmute' });
    useUiStore.getState().toast(t.notices.askedToUnmute);
  } catch (error) {
    useUiStore.getState().toast(t.meeting.actionFailed(describe(error)), 'warning');
  }
}

export async function toggleCamera(): Promise<void> {
  const a = active;
  if (!a) return;
  const session = useSessionStore.getState();
  if (session.cameraOn) {
    session.setCameraOn(false);
    a.av.stopLocalVideoTile();
    await a.av.stopVideoInput();
    return;
  }
  if (session.videoCapacityReached) {
    useUiStore.getState().toast(t.meeting.videoCapacityFull, 'warning');
    return;
  }
  try {
    await a.av.startVideoInput(cameraId());
  } catch (error) {
    useUiStore.getState().toast(t.meeting.cameraUnavailable(describe(error)), 'warning');
    return;
  }
  session.setCameraOn(true);
  savePrefs({ joinCameraOff: false });
  a.av.startLocalVideoTile();
}

/** Shares a screen (getDisplayMedia; in the desktop app the shell shows its own picker). */
export async function toggleShare(): Promise<void> {
  const a = active;
  if (!a) return;
  if (useSessionStore.getState().sharing) {
    a.av.stopContentShare();
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
  } catch (error) {
    // Cancelling the picker is not an error worth a notice.
    if (!(error instanceof DOMException && error.name === 'NotAllowedError')) {
      useUiStore.getState().toast(t.meeting.shareFailed(describe(error)), 'warning');
    }
    return;
  }
  stream.getVideoTracks()[0]?.addEventListener('ended', () => a.av.stopContentShare());
  try {
    await a.av.startContentShare(stream);
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    useUiStore.getState().toast(t.meeting.shareFailed(describe(error)), 'warning');
  }
}

export async function switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
  useDevicesStore.getState().select(kind, deviceId);
  savePrefs(kind === 'audioinput' ? { audioInputId: deviceId } : kind === 'videoinput' ? { videoInputId: deviceId } : { audioOutputId: deviceId });
  const a = active;
  if (!a) return;
  try {
    await applyDevice(a, kind, deviceId);
  } catch (error) {
    useUiStore.getState().toast(t.meeting.switchFailed(describe(error)), 'warning');
  }
}

export async function setNoiseSuppression(on: boolean): Promise<void> {
  savePrefs({ noiseSuppression: on });
  const a = active;
  if (!a) return;
  a.noiseSuppression = on;
  await a.av.startAudioInput(audioConstraints(useDevicesStore.getState().selected.audioinput, on));
}

export function noiseSuppressionEnabled(): boolean {
  return active?.noiseSuppression ?? true;
}

export function sendChat(text: string): void {
  const a = active;
  if (!a) return;
  const id = newId();
  const chat = useChatStore.getState();
  const base = { id, senderId: a.identity.selfAttendeeId, senderName: a.identity.selfName, text: text.trim(), timestampMs: Date.now(), self: true };
  const encoded = encodeChat(id, text);
  if (!encoded.ok) {
    chat.add({ ...base, status: 'failed', failure: encoded.reason });
    return;
  }
  if (!a.chatBudget.take(Date.now())) {
    chat.add({ ...base, status: 'failed', failure: t.chat.tooMany });
    return;
  }
  chat.add({ ...base, status: 'sending' });
  try {
    a.av.realtimeSendDataMessage(CHAT_TOPIC, encoded.bytes, CHAT_LIFETIME_MS);
    useChatStore.getState().setStatus(id, 'sent');
  } catch (error) {
    useChatStore.getState().setStatus(id, 'failed', describe(error));
  }
}

export function sendReaction(emoji: string): void {
  const a = active;
  if (!a || !a.reactionBudget.take(Date.now())) return;
  try {
    a.av.realtimeSendDataMessage(REACTION_TOPIC, encodeReaction(emoji), 0);
    useChatStore.getState().addReaction({ id: newId(), emoji, senderName: t.chat.you, at: Date.now() });
  } catch {
    // A reaction that cannot be sent is not worth an error.
  }
}

export function bindVideo(tileId: number, element: HTMLVideoElement): void {
  active?.av.bindVideoElement(tileId, element);
}

export function unbindVideo(tileId: number): void {
  const a = active;
  if (a && a.av.getVideoTile(tileId)) a.av.unbindVideoElement(tileId, false);
}

export async function leave(): Promise<void> {
  const a = active;
  if (!a) return;
  // A raised hand goes down with its owner (the server would otherwise keep it until it misses us).
  const live = useLiveStore.getState().live;
  if (live?.hands.some((h) => h.attendeeId === a.identity.selfAttendeeId)) {
    void a.api.act(a.identity.meetingCode, { attendeeId: a.identity.selfAttendeeId, joinToken: a.identity.joinToken }, { kind: 'lower-hand', attendeeId: a.identity.selfAttendeeId }).catch(() => undefined);
  }
  a.av.stopContentShare();
  a.av.stop();
  // audioVideoDidStop(Left) finishes; if the server is gone, leaving must not wait for the SDK's timeout.
  if (useConnectionStore.getState().assessment.unreachable) finish(a, 'left');
}

/**
 * "Try again" while the server cannot be reached: checks it now; if it answers and
 * the SDK is still stuck, starts a fresh session with the same attendee (the server
 * replaces the old one), keeping the roster and chat.
 */
export async function retryConnection(): Promise<void> {
  const a = active;
  if (!a) return;
  const connection = useConnectionStore.getState();
  connection.setChecking(true);
  a.live?.kick();
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3_000);
    const reachable = await a.api.server(controller.signal).then(
      () => true,
      () => false,
    );
    clearTimeout(timer);
    if (!reachable || active !== a || !useConnectionStore.getState().assessment.reconnecting) return;
    const session = useSessionStore.getState();
    a.replaced = true;
    a.av.stopContentShare();
    a.av.stop();
    release(a);
    await startMeeting(a.join, { ...a.options, startMuted: session.muted, cameraOn: session.cameraOn }, true);
  } finally {
    useConnectionStore.getState().setChecking(false);
  }
}

export async function endForAll(): Promise<void> {
  const a = active;
  if (!a?.identity.hostKey) return;
  a.endingForAll = true;
  try {
    await a.api.end(a.identity.meetingCode, a.identity.hostKey);
  } catch (error) {
    a.endingForAll = false;
    useUiStore.getState().toast(t.meeting.endFailed(describe(error)), 'warning');
  }
}

/** Mute or remove someone, as host or co-host (with the host key when we have it, else our own credentials). */
export async function hostAction(kind: 'mute' | 'remove', attendeeId: string): Promise<void> {
  const a = active;
  if (!a) return;
  const auth = a.identity.hostKey ?? { attendeeId: a.identity.selfAttendeeId, joinToken: a.identity.joinToken };
  const target = baseAttendeeId(attendeeId);
  try {
    if (kind === 'mute') await a.api.muteAttendee(a.identity.meetingCode, auth, target);
    else await a.api.removeAttendee(a.identity.meetingCode, auth, target);
  } catch (error) {
    useUiStore.getState().toast(t.meeting.actionFailed(describe(error)), 'warning');
  }
}
