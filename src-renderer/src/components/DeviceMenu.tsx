import { useEffect, useRef, useState } from 'react';
import { noiseSuppressionEnabled, setNoiseSuppression, switchDevice } from '../meeting/meeting-controller';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';
import { DeviceSelect } from './DeviceSelect';

const chooseInMeeting = (kind: DeviceKind, deviceId: string): void => void switchDevice(kind, deviceId);

/** Device switching mid-call. */
export function DeviceMenu({ onClose }: { onClose: () => void }) {
  const canChooseSpeaker = useDevicesStore((s) => s.canChooseSpeaker);
  const [processing, setProcessing] = useState(noiseSuppressionEnabled);
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
    <div className="popover device-menu" role="dialog" aria-label="Audio and video devices" ref={ref}>
      <DeviceSelect kind="audioinput" label="Microphone" onChoose={chooseInMeeting} />
      <DeviceSelect kind="videoinput" label="Camera" onChoose={chooseInMeeting} />
      {canChooseSpeaker && <DeviceSelect kind="audiooutput" label="Speaker" onChoose={chooseInMeeting} />}
      <label className="check">
        <input
          type="checkbox"
          checked={processing}
          onChange={(e) => {
            setProcessing(e.target.checked);
            void setNoiseSuppression(e.target.checked);
          }}
        />
        Echo cancellation and noise suppression
      </label>
    </div>
  );
}
