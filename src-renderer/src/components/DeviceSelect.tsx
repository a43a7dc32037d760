import { t } from '../i18n/i18n';
import { useDevicesStore, type DeviceKind } from '../state/devices-store';

/**
 * A camera, microphone or speaker picker fed by the devices store. The device
 * check and the in-meeting menu differ only in what choosing does.
 */
export function DeviceSelect({ kind, label, onChoose }: { kind: DeviceKind; label: string; onChoose: (kind: DeviceKind, deviceId: string) => void }) {
  const list = useDevicesStore((s) => s.lists[kind]);
  const selected = useDevicesStore((s) => s.selected[kind]);
  return (
    <label className="field">
      <span>{label}</span>
      <select value={selected ?? ''} onChange={(e) => onChoose(kind, e.target.value)} disabled={list.length === 0} data-testid={`device-${kind}`}>
        {list.length === 0 && <option value="">{t.devices.noneFound}</option>}
        {list.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
    </label>
  );
}
