import { Menu, nativeImage, Tray, utilityProcess, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import { hostname } from 'node:os';
import { join } from 'node:path';
import trayColorDataUrl from '../../assets/tray.png';
import trayTemplate2xDataUrl from '../../assets/trayTemplate@2x.png';
import trayTemplateDataUrl from '../../assets/trayTemplate.png';
import type { HostStatus } from '../shared/desktop-api.js';
import { isHosting, serviceNameFor, trayMenu, trayStatusLabel, type TrayAction } from './host-lifecycle.js';
import { checkServerHealth } from './server-host/health-check.js';
import type { HostStartOptions } from './server-host/messages.js';
import { ServerSupervisor, type HostChild } from './server-host/supervisor.js';

/**
 * Electron glue for hosting: the embedded server in a utilityProcess under the
 * ServerSupervisor, and the tray icon that keeps a hosted meeting alive while
 * the window is closed. The decisions live in supervisor.ts and host-lifecycle.ts.
 */

/** The port hosting prefers, so invite links stay the same from one session to the next. */
export const PREFERRED_HOST_PORT = 8443;

function spawnUtilityProcess(entryPath: string): HostChild {
  const child = utilityProcess.fork(entryPath, [], { serviceName: 'Chorus meeting server', stdio: 'inherit' });
  return {
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => {
      child.kill();
    },
  };
}

export function createHostSupervisor(userDataDir: string): ServerSupervisor {
  const startOptions: HostStartOptions = {
    dataDir: join(userDataDir, 'server'),
    host: '0.0.0.0',
    port: PREFERRED_HOST_PORT,
    serviceName: serviceNameFor(hostname()),
    advertise: true,
    rendererDir: join(import.meta.dirname, '..', 'renderer'),
  };
  // The bundled entry sits next to main.js (see the build:electron script).
  const entryPath = join(import.meta.dirname, 'server-host.js');
  return new ServerSupervisor({
    spawn: () => spawnUtilityProcess(entryPath),
    checkHealth: (info) => checkServerHealth(info),
    startOptions,
    log: (event, fields) => console.warn(JSON.stringify({ event, ...fields })),
  });
}

function trayImage(): NativeImage {
  if (process.platform === 'darwin') {
    // A template image follows the menu bar's light or dark appearance.
    const image = nativeImage.createFromDataURL(trayTemplateDataUrl);
    image.addRepresentation({ scaleFactor: 2, dataURL: trayTemplate2xDataUrl });
    image.setTemplateImage(true);
    return image;
  }
  return nativeImage.createFromDataURL(trayColorDataUrl);
}

/** The tray icon: present while hosting, so closing the window does not end the meeting. */
export class HostTray {
  private tray: Tray | undefined;

  constructor(private readonly onAction: (action: TrayAction) => void) {}

  update(status: HostStatus, windowHidden: boolean): void {
    if (!isHosting(status) && !windowHidden) {
      this.tray?.destroy();
      this.tray = undefined;
      return;
    }
    if (!this.tray) {
      this.tray = new Tray(trayImage());
      this.tray.on('click', () => this.onAction('show-window'));
    }
    this.tray.setToolTip(`Chorus – ${trayStatusLabel(status)}`);
    const template: MenuItemConstructorOptions[] = trayMenu(status).map((item) => {
      switch (item.kind) {
        case 'label':
          return { label: item.label, enabled: false };
        case 'separator':
          return { type: 'separator' };
        case 'action':
          return { label: item.label, click: () => this.onAction(item.action) };
        default: {
          const unknownItem: never = item;
          return { label: String(unknownItem) };
        }
      }
    });
    this.tray.setContextMenu(Menu.buildFromTemplate(template));
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = undefined;
  }
}
