import { create } from 'zustand';
import { t } from '../i18n/i18n';

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface DeviceSelection {
  audioinput: string | undefined;
  videoinput: string | undefined;
  audiooutput: string | undefined;
}

export interface DevicesState {
  lists: Record<DeviceKind, DeviceOption[]>;
  selected: DeviceSelection;
  /** A device in use went away and another took over: shown as a notice. */
  notice: string | undefined;
  /** Whether the browser can route audio to a chosen speaker (HTMLMediaElement.setSinkId). */
  canChooseSpeaker: boolean;
  setList(kind: DeviceKind, devices: DeviceOption[]): string | undefined;
  select(kind: DeviceKind, deviceId: string | undefined): void;
  clearNotice(): void;
  setCanChooseSpeaker(can: boolean): void;
}

const KIND_NAMES: Record<DeviceKind, string> = { audioinput: t.devices.audioinput, videoinput: t.devices.videoinput, audiooutput: t.devices.audiooutput };

/**
 * What to use after the device list changed. A selected device that is still
 * there stays. One that vanished from the list it was in (unplugged) falls back to
 * the system default (or the first device), and the caller gets a notice to show.
 * A remembered device that is simply not listed (another machine, or no permission
 * yet, when browsers list no ids) falls back quietly. Pure, for hot-plug tests.
 */
export function reconcileDevice(
  kind: DeviceKind,
  devices: DeviceOption[],
  selectedId: string | undefined,
  previous: DeviceOption[] = [],
): { deviceId: string | undefined; notice?: string } {
  if (selectedId !== undefined && devices.some((d) => d.deviceId === selectedId)) return { deviceId: selectedId };
  // Without ids there is nothing to choose from yet: keep the choice for when there is.
  if (devices.length === 0 && !previous.some((d) => d.deviceId === selectedId)) return { deviceId: selectedId };
  const fallback = devices.find((d) => d.deviceId === 'default') ?? devices[0];
  const unplugged = selectedId !== undefined && previous.some((d) => d.deviceId === selectedId);
  if (!unplugged) return { deviceId: fallback?.deviceId };
  const what = KIND_NAMES[kind];
  return {
    deviceId: fallback?.deviceId,
    notice: fallback ? t.devices.disconnectedSwitched(what, fallback.label || t.devices.theDefault(what)) : t.devices.disconnectedNone(what),
  };
}

export const useDevicesStore = create<DevicesState>((set, get) => ({
  lists: { audioinput: [], videoinput: [], audiooutput: [] },
  selected: { audioinput: undefined, videoinput: undefined, audiooutput: undefined },
  notice: undefined,
  canChooseSpeaker: false,
  setList: (kind, devices) => {
    const { deviceId, notice } = reconcileDevice(kind, devices, get().selected[kind], get().lists[kind]);
    set((state) => ({ lists: { ...state.lists, [kind]: devices }, selected: { ...state.selected, [kind]: deviceId }, ...(notice ? { notice } : {}) }));
    return notice;
  },
  select: (kind, deviceId) => set((state) => ({ selected: { ...state.selected, [kind]: deviceId } })),
  clearNotice: () => set({ notice: undefined }),
  setCanChooseSpeaker: (canChooseSpeaker) => set({ canChooseSpeaker }),
}));

/** MediaDeviceInfo list to options; unlabeled devices (no permission yet) get numbered names. */
export function toOptions(kind: DeviceKind, devices: readonly { deviceId: string; label: string; kind: string }[]): DeviceOption[] {
  return devices
    .filter((d) => d.kind === kind && d.deviceId !== '')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || t.devices.numbered(KIND_NAMES[kind], i + 1) }));
}
