import type { HostStatus } from '../shared/desktop-api.js';

/**
 * What closing the window and quitting mean while this machine hosts meetings,
 * and what the tray shows. Pure: main.ts asks, shows the dialog or the menu,
 * and does what the answer says.
 */

export const isHosting = (status: HostStatus): boolean =>
  status.state === 'running' || status.state === 'starting' || (status.state === 'crashed' && status.restarting);

/** Closing the window while hosting hides it to the tray: the meeting goes on. */
export function decideWindowClose(input: { status: HostStatus; quitting: boolean }): 'hide-to-tray' | 'close' {
  return !input.quitting && isHosting(input.status) ? 'hide-to-tray' : 'close';
}

export type QuitDecision = { action: 'quit' } | { action: 'ask'; prompt: QuitPrompt };

export interface QuitPrompt {
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
}

export type QuitChoice = 'end-meetings-and-quit' | 'keep-hosting';

const QUIT_BUTTONS: Array<{ label: string; choice: QuitChoice }> = [
  { label: 'End meeting for everyone and quit', choice: 'end-meetings-and-quit' },
  { label: 'Keep hosting', choice: 'keep-hosting' },
];

/** Quitting with meetings in progress ends them for everyone, so the user is asked first. */
export function decideQuit(input: { status: HostStatus; activeMeetings: number }): QuitDecision {
  if (!isHosting(input.status) || input.activeMeetings === 0) return { action: 'quit' };
  const n = input.activeMeetings;
  return {
    action: 'ask',
    prompt: {
      message: n === 1 ? 'A meeting is in progress on this computer.' : `${n} meetings are in progress on this computer.`,
      detail: 'This computer is hosting them. Quitting Chorus ends them for everyone. To keep them going, keep hosting: Chorus stays in the tray.',
      buttons: QUIT_BUTTONS.map((b) => b.label),
      defaultId: 1,
      cancelId: 1,
    },
  };
}

export function quitChoiceFromResponse(response: number): QuitChoice {
  return QUIT_BUTTONS[response]?.choice ?? 'keep-hosting';
}

export type TrayAction = 'show-window' | 'stop-hosting' | 'quit';
export type TrayItem = { kind: 'label'; label: string } | { kind: 'action'; label: string; action: TrayAction } | { kind: 'separator' };

export function trayStatusLabel(status: HostStatus): string {
  switch (status.state) {
    case 'stopped':
      return 'Not hosting';
    case 'starting':
      return 'Starting the meeting server…';
    case 'running':
      return `Hosting at ${status.info.lanUrls[0] ?? status.info.localUrl}`;
    case 'crashed':
      return status.restarting ? 'Meeting server restarting…' : 'Meeting server stopped after a crash';
    default: {
      const unknownStatus: never = status;
      return String(unknownStatus);
    }
  }
}

/** The tray menu for a status. The tray exists only while hosting or while the window is hidden. */
export function trayMenu(status: HostStatus): TrayItem[] {
  const items: TrayItem[] = [{ kind: 'label', label: trayStatusLabel(status) }, { kind: 'separator' }, { kind: 'action', label: 'Show Chorus', action: 'show-window' }];
  if (isHosting(status)) items.push({ kind: 'action', label: 'Stop hosting (ends meetings)', action: 'stop-hosting' });
  items.push({ kind: 'separator' }, { kind: 'action', label: 'Quit Chorus', action: 'quit' });
  return items;
}

/** Shown once, before hosting starts for the first time: the OS may ask about incoming connections. */
export const FIREWALL_NOTICE = {
  message: 'Your computer may ask whether Chorus can accept incoming connections.',
  detail:
    'To host a meeting, other computers on your network connect to this one. When your firewall asks, allow Chorus on private networks. ' +
    'Without that, only this computer can join.',
};

/** The computer's name as an mDNS instance name (at most 63 bytes, no dots). */
export function serviceNameFor(host: string): string {
  const printable = [...host.replace(/\.local$/i, '')].map((c) => (c === '.' || c.charCodeAt(0) < 0x20 ? ' ' : c)).join('');
  const cleaned = printable.trim();
  return (cleaned || 'Chorus').slice(0, 50);
}
