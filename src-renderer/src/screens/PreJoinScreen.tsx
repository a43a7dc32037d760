import { useEffect, useRef, useState, type FormEvent } from 'react';
import { AppApiError, createAppApi, type MeetingDescription } from '../api/app-api';
import { DeviceSelect } from '../components/DeviceSelect';
import { Icon } from '../components/Icon';
import { desktopApi } from '../host-environment';
import { describeMediaError, playTestSound, useDeviceLists, useLocalPreview, useMicLevel } from '../lib/media-preview';
import { loadPrefs, rememberMeeting, savePrefs } from '../lib/prefs';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';
import { useSessionStore } from '../state/session-store';
import { useUiStore, type JoinTarget } from '../state/ui-store';

/** Before joining, a choice is only remembered: the meeting starts with it. */
function chooseBeforeJoining(kind: DeviceKind, deviceId: string): void {
  useDevicesStore.getState().select(kind, deviceId);
  savePrefs(kind === 'audioinput' ? { audioInputId: deviceId } : kind === 'videoinput' ? { videoInputId: deviceId } : { audioOutputId: deviceId });
}

export function PreJoinScreen({ target }: { target: JoinTarget }) {
  const go = useUiStore((s) => s.go);
  const [prefs] = useState(loadPrefs);
  const [meeting, setMeeting] = useState<MeetingDescription>();
  const [displayName, setDisplayName] = useState(prefs.displayName);
  const [passcode, setPasscode] = useState('');
  const [joinMuted, setJoinMuted] = useState(prefs.joinMuted);
  const [cameraOff, setCameraOff] = useState(prefs.joinCameraOff);
  const [processing, setProcessing] = useState(prefs.noiseSuppression);
  const [joinError, setJoinError] = useState<{ kind: 'wrong-passcode' | 'throttled' | 'other'; message: string }>();
  const [joining, setJoining] = useState(false);
  const videoRef = useRef<HTMLVideoElement>(null);
  const notice = useDevicesStore((s) => s.notice);
  const clearNotice = useDevicesStore((s) => s.clearNotice);
  const canChooseSpeaker = useDevicesStore((s) => s.canChooseSpeaker);
  const selected = useDevicesStore((s) => s.selected);

  // Remembered devices are preferred; the lists fall back if they are gone.
  useEffect(() => {
    const store = useDevicesStore.getState();
    if (prefs.audioInputId) store.select('audioinput', prefs.audioInputId);
    if (prefs.videoInputId) store.select('videoinput', prefs.videoInputId);
    if (prefs.audioOutputId) store.select('audiooutput', prefs.audioOutputId);
  }, [prefs]);

  const preview = useLocalPreview(selected.audioinput, selected.videoinput, cameraOff, processing);
  // Labels appear only once permission is granted: re-list after the preview opens.
  useDeviceLists(preview.stream);
  const level = useMicLevel(preview.stream);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = preview.stream && !cameraOff ? preview.stream : null;
  }, [preview.stream, cameraOff]);

  useEffect(() => {
    let cancelled = false;
    const load = async (): Promise<void> => {
      try {
        const desktop = desktopApi();
        if (desktop && target.fingerprint) await desktop.trust.pinServer(target.serverUrl, target.fingerprint);
        const description = await createAppApi(target.serverUrl).describe(target.meetingCode);
        if (!cancelled) setMeeting(description);
      } catch (error) {
        if (cancelled) return;
        const failure = error instanceof AppApiError ? error.failure : 'Unreachable';
        go({ name: 'unavailable', target, failure, message: error instanceof Error ? error.message : String(error) });
      }
    };
    void load();
    return () => {
      cancelled = true;
    };
  }, [target, go]);

  const join = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const name = displayName.trim();
    if (!name) return;
    setJoining(true);
    setJoinError(undefined);
    savePrefs({ displayName: name, joinMuted, joinCameraOff: cameraOff, noiseSuppression: processing });
    const api = createAppApi(target.serverUrl);
    try {
      const [joinInfo, server, controller] = await Promise.all([
        api.join(target.meetingCode, { displayName: name, ...(passcode ? { passcode } : {}), ...(target.hostKey ? { hostKey: target.hostKey } : {}) }),
        api.server().catch(() => undefined),
        import('../meeting/meeting-controller'),
      ]);
      const meetingName = meeting?.name ?? target.meetingCode;
      const fingerprint = target.fingerprint ?? server?.fingerprint;
      rememberMeeting({ serverUrl: target.serverUrl, meetingCode: target.meetingCode, name: meetingName, ...(fingerprint ? { fingerprint } : {}), joinedAt: Date.now() });
      // The SDK opens its own camera and microphone; release the preview's first.
      preview.stream?.getTracks().forEach((t) => t.stop());
      go({ name: 'meeting' });
      await controller.startMeeting(joinInfo, {
        identity: {
          serverUrl: target.serverUrl,
          meetingCode: target.meetingCode,
          meetingName,
          isHost: joinInfo.isHost,
          ...(joinInfo.isHost && target.hostKey ? { hostKey: target.hostKey } : {}),
          selfAttendeeId: joinInfo.Attendee.AttendeeId,
          selfName: name,
          ...(fingerprint ? { fingerprint } : {}),
        },
        startMuted: joinMuted,
        cameraOn: !cameraOff,
        noiseSuppression: processing,
      });
    } catch (error) {
      setJoining(false);
      // Past the API, the meeting screen is already up: the SDK could not start the session.
      if (useUiStore.getState().screen.name === 'meeting') {
        useSessionStore.getState().ended('failed', `The meeting could not start: ${error instanceof Error ? error.message : String(error)}`);
        go({ name: 'ended' });
        return;
      }
      if (error instanceof AppApiError) {
        if (error.failure === 'ForbiddenException') return setJoinError({ kind: 'wrong-passcode', message: error.message });
        if (error.failure === 'ThrottlingException') return setJoinError({ kind: 'throttled', message: error.message });
        if (error.failure === 'NotFoundException' || error.failure === 'Unreachable') {
          return go({ name: 'unavailable', target, failure: error.failure, message: error.message });
        }
      }
      setJoinError({ kind: 'other', message: error instanceof Error ? error.message : String(error) });
    }
  };

  const needsPasscode = meeting?.passcodeRequired && !target.hostKey;
  return (
    <main className="prejoin" data-testid="prejoin-screen">
      <header className="prejoin-header">
        <button type="button" className="button ghost" onClick={() => go({ name: 'home' })}>
          ← Back
        </button>
        <div>
          <h1>{meeting ? meeting.name : 'Loading meeting…'}</h1>
          <p className="muted small mono">{target.meetingCode}</p>
        </div>
      </header>
      <div className="prejoin-body">
        <section className="preview-panel" aria-label="Camera and microphone check">
          <div className="preview">
            {cameraOff || !preview.stream ? (
              <div className="preview-off">{preview.error ?? (cameraOff ? 'Camera is off' : 'Starting camera…')}</div>
            ) : null}
            <video ref={videoRef} autoPlay playsInline muted className={`mirror ${cameraOff || !preview.stream ? 'hidden' : ''}`} aria-label="Your camera preview" data-testid="camera-preview" />
            <div className="preview-controls">
              <button type="button" className={`round ${joinMuted ? 'off' : ''}`} aria-pressed={!joinMuted} aria-label={joinMuted ? 'Join unmuted' : 'Join muted'} onClick={() => setJoinMuted(!joinMuted)}>
                <Icon name={joinMuted ? 'micOff' : 'mic'} />
              </button>
              <button type="button" className={`round ${cameraOff ? 'off' : ''}`} aria-pressed={!cameraOff} aria-label={cameraOff ? 'Join with camera on' : 'Join with camera off'} onClick={() => setCameraOff(!cameraOff)}>
                <Icon name={cameraOff ? 'camOff' : 'cam'} />
              </button>
            </div>
          </div>
          <div className="meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(level * 100)} data-testid="mic-meter">
            <div className="meter-fill" style={{ transform: `scaleX(${level})` }} />
          </div>
          {notice && (
            <div className="notice" role="alert">
              {notice}
              <button type="button" className="icon-button small" aria-label="Dismiss" onClick={clearNotice}>
                ×
              </button>
            </div>
          )}
          <div className="device-grid">
            <DeviceSelect kind="audioinput" label="Microphone" onChoose={chooseBeforeJoining} />
            <DeviceSelect kind="videoinput" label="Camera" onChoose={chooseBeforeJoining} />
            {canChooseSpeaker && <DeviceSelect kind="audiooutput" label="Speaker" onChoose={chooseBeforeJoining} />}
            <div className="field">
              <span>Speaker test</span>
              <button type="button" className="button" onClick={() => void playTestSound(selected.audiooutput).catch((e: unknown) => useUiStore.getState().toast(describeMediaError(e), 'warning'))}>
                <Icon name="speaker" size={16} /> Play test sound
              </button>
            </div>
          </div>
          <label className="check">
            <input type="checkbox" checked={processing} onChange={(e) => setProcessing(e.target.checked)} />
            Echo cancellation and noise suppression (in the browser)
          </label>
        </section>
        <form className="card join-form" onSubmit={(e) => void join(e)} aria-label="Join details">
          <h2>Ready to join?</h2>
          <label className="field">
            <span>Your name</span>
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={64} required autoFocus data-testid="display-name" />
          </label>
          {needsPasscode && (
            <label className="field">
              <span>Passcode</span>
              <input value={passcode} onChange={(e) => setPasscode(e.target.value)} type="password" autoComplete="off" required data-testid="passcode" />
            </label>
          )}
          {target.hostKey && <p className="badge host-badge">You are the host</p>}
          {joinError && (
            <div className="error-box" role="alert" data-testid={joinError.kind === 'wrong-passcode' ? 'wrong-passcode' : 'join-error'}>
              <strong>{joinError.kind === 'wrong-passcode' ? 'Wrong passcode' : joinError.kind === 'throttled' ? 'Too many attempts' : 'Could not join'}</strong>
              <span>{joinError.kind === 'wrong-passcode' ? 'Check the passcode with the host and try again.' : joinError.message}</span>
            </div>
          )}
          <button type="submit" className="button primary large" disabled={joining || !meeting || !displayName.trim()} data-testid="join-button">
            {joining ? 'Joining…' : 'Join meeting'}
          </button>
        </form>
      </div>
    </main>
  );
}
