import {
  ConsoleLogger,
  DefaultActiveSpeakerPolicy,
  DefaultDeviceController,
  DefaultMeetingSession,
  LogLevel,
  MeetingSessionConfiguration,
  type AudioVideoFacade,
  type AudioVideoObserver,
  type DataMessage,
  type DeviceChangeObserver,
  type MeetingSessionStatus,
  type VideoTileState,
} from 'amazon-chime-sdk-js';
import { createAppApi, type JoinInfo } from '../api/app-api';
import { baseAttendeeId, displayNameOf, isContentAttendee } from '../lib/names';
import { savePrefs } from '../lib/prefs';
import { useChatStore } from '../state/chat-store';
import { toOptions, useDevicesStore, type DeviceKind } from '../state/devices-store';
import { useRosterStore } from '../state/roster-store';
import { useSessionStore, type MeetingIdentity } from '../state/session-store';
import { useTilesStore } from '../state/tiles-store';
import { useUiStore } from '../state/ui-store';
import { endReasonFor } from './end-reasons';
import { CHAT_LIFETIME_MS, CHAT_TOPIC, decodeChat, decodeReaction, encodeChat, encodeReaction, HOST_CONTROL_TOPIC, isHostMute, REACTION_TOPIC, SendBudget } from './messages';

/**
 * The one module that talks to amazon-chime-sdk-js. SDK observers write into the
 * zustand stores; components read the stores and call the functions exported
 * here. It is loaded on demand with the meeting view, keeping the SDK out of
 * the initial bundle.
 */

interface Active {
  session: DefaultMeetingSession;
  av: AudioVideoFacade;
  identity: MeetingIdentity;
  audioElement: HTMLAudioElement;
  noiseSuppression: boolean;
  endingForAll: boolean;
  chatBudget: SendBudget;
  reactionBudget: SendBudget;
  reactionTimer: ReturnType<typeof setInterval>;
  volumeSubscriptions: Set<string>;
  cleanup: (() => void)[];
}

let active: Active | undefined;

export interface StartOptions {
  identity: MeetingIdentity;
  startMuted: boolean;
  cameraOn: boolean;
  noiseSuppression: boolean;
}

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
  if (!id) throw new Error('No camera found');
  return id;
}

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export async function startMeeting(join: JoinInfo, options: StartOptions): Promise<void> {
  if (active) await leave();
  useRosterStore.getState().reset();
  useTilesStore.getState().reset();
  useChatStore.getState().reset();
  const session = useSessionStore.getState();
  session.begin(options.identity, { muted: options.startMuted, cameraOn: options.cameraOn });

  const logger = new ConsoleLogger('chorus', LogLevel.WARN);
  const deviceController = new DefaultDeviceController(logger, { enableWebAudio: false });
  const configuration = new MeetingSessionConfiguration(join.Meeting, join.Attendee);
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
    audioElement,
    noiseSuppression: options.noiseSuppression,
    endingForAll: false,
    chatBudget: new SendBudget(10, 10_000),
    reactionBudget: new SendBudget(5, 5_000),
    reactionTimer: setInterval(() => useChatStore.getState().expireReactions(Date.now()), 500),
    volumeSubscriptions: new Set(),
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
    useUiStore.getState().toast(`Microphone unavailable: ${error instanceof Error ? error.message : String(error)}`, 'warning');
  }
  if (options.cameraOn) {
    try {
      await av.startVideoInput(cameraId());
    } catch {
      useSessionStore.getState().setCameraOn(false);
      useUiStore.getState().toast('Camera unavailable; joined with the camera off', 'warning');
    }
  }
  const speaker = useDevicesStore.getState().selected.audiooutput;
  if (speaker && useDevicesStore.getState().canChooseSpeaker) await av.chooseAudioOutput(speaker).catch(() => undefined);
  await av.bindAudioElement(audioElement);
  if (options.startMuted) av.realtimeMuteLocalAudio();
  av.start();
}

function wireObservers(a: Active): void {
  const { av } = a;
  const selfId = a.identity.selfAttendeeId;
  const observer: AudioVideoObserver = {
    audioVideoDidStartConnecting: (reconnecting) => useSessionStore.getState().connecting(reconnecting),
    audioVideoDidStart: () => {
      useSessionStore.getState().connected();
      if (useSessionStore.getState().cameraOn && !useSessionStore.getState().videoCapacityReached) av.startLocalVideoTile();
    },
    audioVideoDidStop: (status: MeetingSessionStatus) => {
      const reason = a.endingForAll ? 'ended' : endReasonFor(status.statusCode());
      finish(a, reason, a.endingForAll ? 'You ended the meeting for everyone.' : undefined);
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
      });
      if (!tile.isContent) useRosterStore.getState().setVideo(tile.boundAttendeeId, Boolean(tile.boundVideoStream));
    },
    videoTileWasRemoved: (tileId: number) => {
      const tile = useTilesStore.getState().tiles[tileId];
      if (tile && !tile.content) useRosterStore.getState().setVideo(tile.attendeeId, false);
      useTilesStore.getState().remove(tileId);
    },
    videoAvailabilityDidChange: (availability) => {
      const reached = !availability.canStartLocalVideo;
      useSessionStore.getState().setVideoCapacityReached(reached);
    },
    videoSendDidBecomeUnavailable: () => {
      useSessionStore.getState().setVideoCapacityReached(true);
      useSessionStore.getState().setCameraOn(false);
      useUiStore.getState().toast('Video capacity reached: your camera is off, others can still hear and see you in the list', 'warning');
    },
    connectionDidBecomePoor: () => useSessionStore.getState().setNetworkQuality('poor'),
    connectionDidSuggestStopVideo: () => useSessionStore.getState().setNetworkQuality('poor'),
    connectionDidBecomeGood: () => useSessionStore.getState().setNetworkQuality('good'),
  };
  av.addObserver(observer);
  a.cleanup.push(() => av.removeObserver(observer));

  av.addContentShareObserver({
    contentShareDidStart: () => useSessionStore.getState().setSharing(true),
    contentShareDidStop: () => useSessionStore.getState().setSharing(false),
  });

  av.realtimeSubscribeToAttendeeIdPresence((attendeeId, present, externalUserId) => {
    useRosterStore.getState().presence(attendeeId, present, externalUserId, Date.now());
    if (isContentAttendee(attendeeId)) return;
    if (present && !a.volumeSubscriptions.has(attendeeId)) {
      a.volumeSubscriptions.add(attendeeId);
      av.realtimeSubscribeToVolumeIndicator(attendeeId, (id, volume, muted, signal) => onVolume(id, volume, muted, signal));
    } else if (!present && a.volumeSubscriptions.has(attendeeId)) {
      a.volumeSubscriptions.delete(attendeeId);
      av.realtimeUnsubscribeFromVolumeIndicator(attendeeId);
    }
  });
  av.realtimeSubscribeToMuteAndUnmuteLocalAudio((muted) => useSessionStore.getState().setMuted(muted));
  av.subscribeToActiveSpeakerDetector(new DefaultActiveSpeakerPolicy(), (ids) => useRosterStore.getState().setActiveSpeakers(ids));

  av.realtimeSubscribeToReceiveDataMessage(CHAT_TOPIC, (message: DataMessage) => onChat(a, message));
  // The server (empty sender, which the relay never lets a client claim) tells us the host muted us.
  av.realtimeSubscribeToReceiveDataMessage(HOST_CONTROL_TOPIC, (message: DataMessage) => {
    if (message.senderAttendeeId !== '' || message.throttled || !isHostMute(message.data)) return;
    if (!av.realtimeIsLocalAudioMuted()) av.realtimeMuteLocalAudio();
    useSessionStore.getState().mutedByHost(Date.now());
    useUiStore.getState().toast('The host muted you', 'warning');
  });
  av.realtimeSubscribeToReceiveDataMessage(REACTION_TOPIC, (message: DataMessage) => {
    if (message.throttled) return;
    const emoji = decodeReaction(message.data);
    if (!emoji) return;
    const name = message.senderAttendeeId === selfId ? 'You' : displayNameOf(message.senderExternalUserId);
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

function onVolume(attendeeId: string, volume: number | null, muted: boolean | null, signal: number | null): void {
  useRosterStore.getState().volume(attendeeId, volume, muted, signal);
}

function onChat(a: Active, message: DataMessage): void {
  const selfId = a.identity.selfAttendeeId;
  const decoded = decodeChat(message.data);
  if (!decoded) return;
  const chat = useChatStore.getState();
  if (message.throttled) {
    // The server refused one of our messages and says so: show it as failed, never drop it silently.
    if (message.senderAttendeeId === selfId) chat.setStatus(decoded.id, 'failed', 'The server throttled this message');
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

function finish(a: Active, reason: Parameters<ReturnType<typeof useSessionStore.getState>['ended']>[0], detail?: string): void {
  useSessionStore.getState().ended(reason, detail);
  if (active !== a) return;
  active = undefined;
  clearInterval(a.reactionTimer);
  for (const fn of a.cleanup) {
    try {
      fn();
    } catch {
      // Cleanup of a stopped session must not throw into the SDK's callback.
    }
  }
  void a.av.stopVideoInput().catch(() => undefined);
  void a.av.stopAudioInput().catch(() => undefined);
  a.audioElement.remove();
  useTilesStore.getState().reset();
  useUiStore.getState().go({ name: 'ended' });
}

// ---- actions for components -------------------------------------------------

export function toggleMute(): void {
  const a = active;
  if (!a) return;
  if (a.av.realtimeIsLocalAudioMuted()) {
    a.av.realtimeUnmuteLocalAudio();
  } else {
    a.av.realtimeMuteLocalAudio();
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
    useUiStore.getState().toast('Video capacity reached: 16 cameras are already on', 'warning');
    return;
  }
  try {
    await a.av.startVideoInput(cameraId());
  } catch (error) {
    useUiStore.getState().toast(`Camera unavailable: ${error instanceof Error ? error.message : String(error)}`, 'warning');
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
    await a.av.stopContentShare();
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
  } catch (error) {
    // Cancelling the picker is not an error worth a notice.
    if (!(error instanceof DOMException && error.name === 'NotAllowedError')) {
      useUiStore.getState().toast(`Screen sharing failed: ${error instanceof Error ? error.message : String(error)}`, 'warning');
    }
    return;
  }
  stream.getVideoTracks()[0]?.addEventListener('ended', () => void a.av.stopContentShare());
  try {
    await a.av.startContentShare(stream);
  } catch (error) {
    stream.getTracks().forEach((t) => t.stop());
    useUiStore.getState().toast(`Screen sharing failed: ${error instanceof Error ? error.message : String(error)}`, 'warning');
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
    useUiStore.getState().toast(`Could not switch device: ${error instanceof Error ? error.message : String(error)}`, 'warning');
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
    chat.add({ ...base, status: 'failed', failure: 'Too many messages at once; wait a moment' });
    return;
  }
  chat.add({ ...base, status: 'sending' });
  try {
    a.av.realtimeSendDataMessage(CHAT_TOPIC, encoded.bytes, CHAT_LIFETIME_MS);
    useChatStore.getState().setStatus(id, 'sent');
  } catch (error) {
    useChatStore.getState().setStatus(id, 'failed', error instanceof Error ? error.message : String(error));
  }
}

export function sendReaction(emoji: string): void {
  const a = active;
  if (!a || !a.reactionBudget.take(Date.now())) return;
  try {
    a.av.realtimeSendDataMessage(REACTION_TOPIC, encodeReaction(emoji), 0);
    useChatStore.getState().addReaction({ id: newId(), emoji, senderName: 'You', at: Date.now() });
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
  a.av.stopContentShare();
  a.av.stop();
  // audioVideoDidStop(Left) finishes; if the server is gone it still arrives after the SDK's timeout.
}

export async function endForAll(): Promise<void> {
  const a = active;
  if (!a?.identity.hostKey) return;
  a.endingForAll = true;
  try {
    await createAppApi(a.identity.serverUrl).end(a.identity.meetingCode, a.identity.hostKey);
  } catch (error) {
    a.endingForAll = false;
    useUiStore.getState().toast(`Could not end the meeting: ${error instanceof Error ? error.message : String(error)}`, 'warning');
  }
}

export async function hostAction(kind: 'mute' | 'remove', attendeeId: string): Promise<void> {
  const a = active;
  if (!a?.identity.hostKey) return;
  const api = createAppApi(a.identity.serverUrl);
  const target = baseAttendeeId(attendeeId);
  try {
    if (kind === 'mute') await api.muteAttendee(a.identity.meetingCode, a.identity.hostKey, target);
    else await api.removeAttendee(a.identity.meetingCode, a.identity.hostKey, target);
  } catch (error) {
    useUiStore.getState().toast(`Could not ${kind} attendee: ${error instanceof Error ? error.message : String(error)}`, 'warning');
  }
}
