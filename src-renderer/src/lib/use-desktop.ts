import { desktopApi } from '../host-environment';

export const isDesktop = (): boolean => desktopApi() !== undefined;
