import type { JoinInfo } from '../api/app-api';
import { rememberMeeting } from '../lib/prefs';
import { rememberSecrets } from '../lib/session-memory';
import { useSessionStore } from '../state/session-store';
import { useUiStore, type JoinTarget } from '../state/ui-store';
import { t } from '../i18n/i18n';
import type { JoinOptions } from './join-options';

/**
 * From an admitted join (straight from the device check, or out of the lobby) into
 * the meeting: remember it, show the meeting screen, start the SDK session. The
 * meeting controller (and with it the SDK) is loaded here, on demand.
 */
export async function enterMeeting(target: JoinTarget, join: JoinInfo, options: JoinOptions, meetingName: string, passcode: string | undefined, fingerprint: string | undefined): Promise<void> {
  const controller = await import('./meeting-controller');
  rememberMeeting({ serverUrl: target.serverUrl, meetingCode: target.meetingCode, name: meetingName, ...(fingerprint ? { fingerprint } : {}), joinedAt: Date.now() });
  // A reload or Rejoin in this tab does not ask again (sessionStorage only).
  rememberSecrets(target.serverUrl, target.meetingCode, { ...(passcode ? { passcode } : {}), ...(join.isHost && target.hostKey ? { hostKey: target.hostKey } : {}) });
  useUiStore.getState().go({ name: 'meeting' });
  try {
    await controller.startMeeting(join, {
      identity: {
        serverUrl: target.serverUrl,
        meetingCode: target.meetingCode,
        meetingName,
        isHost: join.isHost,
        ...(join.isHost && target.hostKey ? { hostKey: target.hostKey } : {}),
        selfAttendeeId: join.Attendee.AttendeeId,
        joinToken: join.Attendee.JoinToken,
        selfName: options.displayName,
        ...(fingerprint ? { fingerprint } : {}),
      },
      startMuted: options.startMuted,
      cameraOn: options.cameraOn,
      noiseSuppression: options.noiseSuppression,
    });
  } catch (error) {
    // Past the API, the meeting screen is already up: the SDK could not start the session.
    useSessionStore.getState().ended('failed', t.prejoin.meetingCouldNotStart(error instanceof Error ? error.message : String(error)));
    useUiStore.getState().go({ name: 'ended' });
  }
}
