import type { ModerationAction } from '../../../src-main/shared/app-api.js';
import { t } from '../i18n/i18n';
import { useUiStore } from '../state/ui-store';
import { activeAuth, noteLoweredOwnHand } from './meeting-controller';

/**
 * Hands, roles, the lobby and mute locks: each an action on the app API, sent with
 * this attendee's own credentials (the server checks its role). The new state comes
 * back through the live state, to everyone at once.
 */
export async function act(action: ModerationAction): Promise<boolean> {
  const session = activeAuth();
  if (!session) return false;
  try {
    await session.api.act(session.code, session.auth, action);
    return true;
  } catch (error) {
    useUiStore.getState().toast(t.meeting.actionFailed(error instanceof Error ? error.message : String(error)), 'warning');
    return false;
  }
}

export function setHand(raised: boolean): Promise<boolean> {
  const session = activeAuth();
  if (!session) return Promise.resolve(false);
  if (!raised) noteLoweredOwnHand();
  return act(raised ? { kind: 'raise-hand' } : { kind: 'lower-hand', attendeeId: session.selfId });
}

export const lowerHandOf = (attendeeId: string): Promise<boolean> => act({ kind: 'lower-hand', attendeeId });
export const allowUnmute = (attendeeId: string): Promise<boolean> => act({ kind: 'allow-unmute', attendeeId });
export const setRole = (attendeeId: string, role: 'cohost' | 'guest'): Promise<boolean> => act({ kind: 'set-role', attendeeId, role });
export const admit = (entryId: string): Promise<boolean> => act({ kind: 'admit', entryId });
export const admitAll = (): Promise<boolean> => act({ kind: 'admit-all' });
export const deny = (entryId: string): Promise<boolean> => act({ kind: 'deny', entryId });
export const liftBan = (banId: string): Promise<boolean> => act({ kind: 'lift-ban', banId });
export const setLobby = (enabled: boolean): Promise<boolean> => act({ kind: 'set-lobby', enabled });

export async function muteAll(): Promise<void> {
  if (await act({ kind: 'mute-all' })) useUiStore.getState().toast(t.roster.muteAllDone);
}
