import { useEffect, useRef, useState } from 'react';
import { t } from '../i18n/i18n';
import { toOptions, useDevicesStore } from '../state/devices-store';

/**
 * The device check before joining, on plain browser media APIs (no SDK yet):
 * a camera preview, a microphone level and a speaker test tone.
 */

/** Keeps the device lists current, following hot-plug; a lost selection falls back with a notice. */
export function useDeviceLists(refreshKey: unknown): void {
  useEffect(() => {
    const media = navigator.mediaDevices;
    if (!media?.enumerateDevices) return;
    let cancelled = false;
    const refresh = async (): Promise<void> => {
      const list = await media.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
      if (cancelled) return;
      const store = useDevicesStore.getState();
      for (const kind of ['audioinput', 'videoinput', 'audiooutput'] as const) store.setList(kind, toOptions(kind, list));
    };
    useDevicesStore.getState().setCanChooseSpeaker(typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype);
    void refresh();
    media.addEventListener('devicechange', refresh);
    return () => {
      cancelled = true;
      media.removeEventListener('devicechange', refresh);
    };
  }, [refreshKey]);
}

export interface PreviewState {
  stream: MediaStream | undefined;
  error: string | undefined;
}

/** Opens camera and microphone for the preview; reopens when a device changes; stops everything on unmount. */
export function useLocalPreview(audioId: string | undefined, videoId: string | undefined, cameraOff: boolean, processing: boolean): PreviewState {
  const [state, setState] = useState<PreviewState>({ stream: undefined, error: undefined });
  useEffect(() => {
    let stream: MediaStream | undefined;
    let cancelled = false;
    const open = async (): Promise<void> => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: { ...(audioId ? { deviceId: { exact: audioId } } : {}), echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
          video: cameraOff ? false : { ...(videoId ? { deviceId: { exact: videoId } } : {}), width: 1280, height: 720, frameRate: 15 },
        });
        if (cancelled) {
          stream.getTracks().forEach((t) => t.stop());
          return;
        }
        setState({ stream, error: undefined });
      } catch (error) {
        if (!cancelled) setState({ stream: undefined, error: describeMediaError(error) });
      }
    };
    void open();
    return () => {
      cancelled = true;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [audioId, videoId, cameraOff, processing]);
  return state;
}

export function describeMediaError(error: unknown): string {
  if (error instanceof DOMException) {
    if (error.name === 'NotAllowedError') return t.devices.blocked;
    if (error.name === 'NotFoundError' || error.name === 'OverconstrainedError') return t.devices.notAvailable;
    if (error.name === 'NotReadableError') return t.devices.inUse;
  }
  if (typeof navigator !== 'undefined' && !navigator.mediaDevices) return t.devices.insecure;
  return error instanceof Error ? error.message : String(error);
}

/** The microphone's level, 0..1, from an analyser on the preview stream. */
export function useMicLevel(stream: MediaStream | undefined): number {
  const [level, setLevel] = useState(0);
  const frame = useRef(0);
  useEffect(() => {
    const track = stream?.getAudioTracks()[0];
    if (!stream || !track) return;
    const context = new AudioContext();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let last = 0;
    const tick = (now: number): void => {
      frame.current = requestAnimationFrame(tick);
      if (now - last < 66) return;
      last = now;
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      // -60 dBFS .. 0 dBFS mapped to 0..1.
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      setLevel(Math.min(1, Math.max(0, (db + 60) / 60)));
    };
    frame.current = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame.current);
      source.disconnect();
      void context.close();
    };
  }, [stream]);
  return level;
}

/** Plays a short two-note chime on the chosen speaker, generated locally. */
export async function playTestSound(sinkId: string | undefined): Promise<void> {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  const gain = context.createGain();
  gain.connect(destination);
  const start = context.currentTime + 0.05;
  for (const [i, freq] of [660, 880].entries()) {
    const osc = context.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(start + i * 0.35);
    osc.stop(start + i * 0.35 + 0.3);
  }
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.3, start + 0.02);
  gain.gain.setValueAtTime(0.3, start + 0.62);
  gain.gain.linearRampToValueAtTime(0, start + 0.7);
  const audio = new Audio();
  audio.srcObject = destination.stream;
  const withSink = audio as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
  if (sinkId && withSink.setSinkId) await withSink.setSinkId(sinkId).catch(() => undefined);
  await audio.play().catch(() => undefined);
  setTimeout(() => {
    audio.srcObject = null;
    void context.close();
  }, 1000);
}
