import { create } from 'zustand';
import { desktopApi } from './host-environment';

export interface AppState {
  host: 'desktop' | 'browser';
  appVersion: string | undefined;
  loadAppVersion(): Promise<void>;
}

export const useAppStore = create<AppState>((set) => ({
  host: desktopApi() ? 'desktop' : 'browser',
  appVersion: undefined,
  async loadAppVersion() {
    const api = desktopApi();
    if (api) set({ appVersion: await api.appVersion() });
  },
}));
