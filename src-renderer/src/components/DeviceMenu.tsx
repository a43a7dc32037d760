import { useEffect, useRef, useState } from 'react';
import { noiseSuppressionEnabled, setNoiseSuppression, switchDevice } from '../meeting/meeting-controller';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';

function Select({ kind, label }: { kind: DeviceKind; label: string }) {
  const list = useDevicesStore((s) => s.lists[kind]);
  const selected = useDevicesStore((s) => s.selected[kind]);
  return (
    <label className="field">
      <span>{label}</span>
      <select value={selected ?? ''} onChange={(e) => void switchDevice(kind, e.target.value)} data-testid={`device-${kind}`}>
        {list.length === 0 && <option value="">None found</option>}
        {list.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
    </label>
  );
}

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
      <Select kind="audioinput" label="Microphone" />
      <Select kind="videoinput" label="Camera" />
      {canChooseSpeaker && <Select kind="audiooutput" label="Speaker" />}
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
