import { useEffect, useRef, useState } from 'react';
import { t } from '../i18n/i18n';
import { loadPrefs, savePrefs } from '../lib/prefs';
import { noiseSuppressionEnabled, setNoiseSuppression, switchDevice } from '../meeting/meeting-controller';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';
import { DeviceSelect } from './DeviceSelect';

const chooseInMeeting = (kind: DeviceKind, deviceId: string): void => void switchDevice(kind, deviceId);

/** Device switching mid-call, and the meeting's sound settings. */
export function DeviceMenu({ onClose }: { onClose: () => void }) {
  const canChooseSpeaker = useDevicesStore((s) => s.canChooseSpeaker);
  const [processing, setProcessing] = useState(noiseSuppressionEnabled);
  const [notifySound, setNotifySound] = useState(() => loadPrefs().notifySound);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector('select')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="popover device-menu" role="dialog" aria-label={t.devices.menuLabel} ref={ref}>
      <DeviceSelect kind="audioinput" label={t.prejoin.microphone} onChoose={chooseInMeeting} />
      <DeviceSelect kind="videoinput" label={t.prejoin.camera} onChoose={chooseInMeeting} />
      {canChooseSpeaker && <DeviceSelect kind="audiooutput" label={t.prejoin.speaker} onChoose={chooseInMeeting} />}
      <label className="check">
        <input
          type="checkbox"
          checked={processing}
          onChange={(e) => {
            setProcessing(e.target.checked);
            void setNoiseSuppression(e.target.checked);
          }}
        />
        {t.devices.processing}
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={notifySound}
          onChange={(e) => {
            setNotifySound(e.target.checked);
            savePrefs({ notifySound: e.target.checked });
          }}
          data-testid="notify-sound"
        />
        {t.devices.notifySound}
      </label>
    </div>
  );
}
