import { useEffect, useRef, useState, type FormEvent } from 'react';
import { isLobbyTicket } from '../../../src-main/shared/app-api.js';
import { AppApiError, createAppApi, type MeetingDescription } from '../api/app-api';
import { DeviceSelect } from '../components/DeviceSelect';
import { Icon } from '../components/Icon';
import { desktopApi } from '../host-environment';
import { t } from '../i18n/i18n';
import { deviceId } from '../lib/device-id';
import { describeMediaError, playTestSound, useDeviceLists, useLocalPreview, useMicLevel } from '../lib/media-preview';
import { loadPrefs, savePrefs } from '../lib/prefs';
import { forgetPasscode, recallSecrets, rememberSecrets } from '../lib/session-memory';
import { enterMeeting } from '../meeting/enter';
import type { JoinOptions } from '../meeting/join-options';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';
import { useUiStore, type JoinTarget } from '../state/ui-store';

/** Before joining, a choice is only remembered: the meeting starts with it. */
function chooseBeforeJoining(kind: DeviceKind, deviceId: string): void {
  useDevicesStore.getState().select(kind, deviceId);
  savePrefs(kind === 'audioinput' ? { audioInputId: deviceId } : kind === 'videoinput' ? { videoInputId: deviceId } : { audioOutputId: deviceId });
}

export function PreJoinScreen({ target }: { target: JoinTarget }) {
  const go = useUiStore((s) => s.go);
  const [prefs] = useState(loadPrefs);
  // Secrets this tab already used for this meeting (sessionStorage): a reload does not ask again.
  const [remembered, setRemembered] = useState(() => recallSecrets(target.serverUrl, target.meetingCode));
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
    const hostKey = target.hostKey ?? remembered.hostKey;
    const usedPasscode = passcode || remembered.passcode;
    const options: JoinOptions = { displayName: name, startMuted: joinMuted, cameraOn: !cameraOff, noiseSuppression: processing };
    try {
      const [response, server] = await Promise.all([
        api.join(target.meetingCode, { displayName: name, deviceId: deviceId(), ...(usedPasscode ? { passcode: usedPasscode } : {}), ...(hostKey ? { hostKey } : {}) }),
        api.server().catch(() => undefined),
        // Loads the SDK while the server answers.
        import('../meeting/meeting-controller'),
      ]);
      const meetingName = meeting?.name ?? target.meetingCode;
      const fingerprint = target.fingerprint ?? server?.fingerprint;
      const fullTarget: JoinTarget = { ...target, ...(hostKey ? { hostKey } : {}), ...(fingerprint ? { fingerprint } : {}) };
      // The SDK (or the lobby) opens its own camera and microphone; release the preview's first.
      preview.stream?.getTracks().forEach((track) => track.stop());
      if (isLobbyTicket(response)) {
        if (usedPasscode) rememberSecrets(target.serverUrl, target.meetingCode, { passcode: usedPasscode });
        go({ name: 'lobby', target: fullTarget, ticket: response.ticket, options, meetingName });
        return;
      }
      await enterMeeting(fullTarget, response, options, meetingName, usedPasscode, fingerprint);
    } catch (error) {
      setJoining(false);
      if (error instanceof AppApiError) {
        if (error.reason === 'passcode-wrong' || error.reason === 'passcode-missing') {
          // A remembered passcode that stopped working is forgotten, and asked for.
          if (remembered.passcode) {
            forgetPasscode(target.serverUrl, target.meetingCode);
            setRemembered((r) => ({ ...(r.hostKey ? { hostKey: r.hostKey } : {}) }));
          }
          return setJoinError({ kind: 'wrong-passcode', message: error.message });
        }
        if (error.reason === 'banned') return go({ name: 'unavailable', target, failure: error.failure, message: error.message, reason: 'banned' });
        if (error.failure === 'ThrottlingException') return setJoinError({ kind: 'throttled', message: error.message });
        if (error.failure === 'NotFoundException' || error.failure === 'Unreachable') {
          return go({ name: 'unavailable', target, failure: error.failure, message: error.message });
        }
      }
      setJoinError({ kind: 'other', message: error instanceof Error ? error.message : String(error) });
    }
  };

  const isHost = Boolean(target.hostKey ?? remembered.hostKey);
  const needsPasscode = meeting?.passcodeRequired && !isHost && !remembered.passcode;
  return (
    <main className="prejoin" data-testid="prejoin-screen">
      <header className="prejoin-header">
        <button type="button" className="button ghost" onClick={() => go({ name: 'home' })}>
          {t.app.back}
        </button>
        <div>
          <h1>{meeting ? meeting.name : t.prejoin.loading}</h1>
          <p className="muted small mono">{target.meetingCode}</p>
        </div>
      </header>
      <div className="prejoin-body">
        <section className="preview-panel" aria-label={t.prejoin.deviceCheck}>
          <div className="preview">
            {cameraOff || !preview.stream ? (
              <div className="preview-off">{preview.error ?? (cameraOff ? t.prejoin.cameraOff : t.prejoin.startingCamera)}</div>
            ) : null}
            <video ref={videoRef} autoPlay playsInline muted className={`mirror ${cameraOff || !preview.stream ? 'hidden' : ''}`} aria-label={t.prejoin.cameraPreview} data-testid="camera-preview" />
            <div className="preview-controls">
              <button type="button" className={`round ${joinMuted ? 'off' : ''}`} aria-pressed={!joinMuted} aria-label={joinMuted ? t.prejoin.joinUnmuted : t.prejoin.joinMuted} onClick={() => setJoinMuted(!joinMuted)}>
                <Icon name={joinMuted ? 'micOff' : 'mic'} />
              </button>
              <button type="button" className={`round ${cameraOff ? 'off' : ''}`} aria-pressed={!cameraOff} aria-label={cameraOff ? t.prejoin.joinCameraOn : t.prejoin.joinCameraOff} onClick={() => setCameraOff(!cameraOff)}>
                <Icon name={cameraOff ? 'camOff' : 'cam'} />
              </button>
            </div>
          </div>
          <div className="meter" role="meter"  aria-label={t.prejoin.micLevel} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(level * 100)} data-testid="mic-meter">
            <div className="meter-fill" style={{ transform: `scaleX(${level})` }} />
          </div>
          {notice && (
            <div className="notice" role="alert">
              {notice}
              <button type="button" className="icon-button small" aria-label={t.app.dismiss} onClick={clearNotice}>
                ×
              </button>
            </div>
          )}
          <div className="device-grid">
            <DeviceSelect kind="audioinput" label={t.prejoin.microphone} onChoose={chooseBeforeJoining} />
            <DeviceSelect kind="videoinput" label={t.prejoin.camera} onChoose={chooseBeforeJoining} />
            {canChooseSpeaker && <DeviceSelect kind="audiooutput" label={t.prejoin.speaker} onChoose={chooseBeforeJoining} />}
            <div className="field">
              <span>{t.prejoin.speakerTest}</span>
              <button type="button" className="button" onClick={() => void playTestSound(selected.audiooutput).catch((e: unknown) => useUiStore.getState().toast(describeMediaError(e), 'warning'))}>
                <Icon name="speaker" size={16} /> {t.prejoin.playTestSound}
              </button>
            </div>
          </div>
          <label className="check">
            <input type="checkbox" checked={processing} onChange={(e) => setProcessing(e.target.checked)} />
            {t.prejoin.processing}
          </label>
        </section>
        <form className="card join-form" onSubmit={(e) => void join(e)} aria-label={t.prejoin.joinDetails}>
          <h2>{t.prejoin.ready}</h2>
          <label className="field">
            <span>{t.prejoin.yourName}</span>
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={64} required autoFocus data-testid="display-name" />
          </label>
          {needsPasscode && (
            <label className="field">
              <span>{t.prejoin.passcode}</span>
              <input value={passcode} onChange={(e) => setPasscode(e.target.value)} type="password" autoComplete="off" required data-testid="passcode" />
            </label>
          )}
          {isHost && <p className="badge host-badge">{t.prejoin.youAreHost}</p>}
          {!isHost && meeting?.passcodeRequired && remembered.passcode && (
            <p className="muted small" data-testid="passcode-remembered">
              {t.prejoin.passcodeRemembered}
            </p>
          )}
          {joinError && (
            <div className="error-box" role="alert" data-testid={joinError.kind === 'wrong-passcode' ? 'wrong-passcode' : 'join-error'}>
              <strong>{joinError.kind === 'wrong-passcode' ? t.prejoin.wrongPasscode : joinError.kind === 'throttled' ? t.prejoin.tooManyAttempts : t.prejoin.couldNotJoin}</strong>
              <span>{joinError.kind === 'wrong-passcode' ? t.prejoin.wrongPasscodeDetail : joinError.message}</span>
            </div>
          )}
          <button type="submit" className="button primary large" disabled={joining || !meeting || !displayName.trim()} data-testid="join-button">
            {joining ? t.app.joining : t.prejoin.joinButton}
          </button>
        </form>
      </div>
    </main>
  );
}
