import { lazy, Suspense, useEffect } from 'react';
import { MEETING_CODE_PATTERN } from '../../src-main/shared/invite-link';
import { useAppStore } from './app-store';
import { CapturePicker } from './components/CapturePicker';
import { Announcer } from './components/Announcer';
import { Toasts } from './components/Toasts';
import { desktopApi } from './host-environment';
import { language, t } from './i18n/i18n';
import { EndScreen } from './screens/EndScreen';
import { HomeScreen } from './screens/HomeScreen';
import { LobbyScreen } from './screens/LobbyScreen';
import { PreJoinScreen } from './screens/PreJoinScreen';
import { UnavailableScreen } from './screens/UnavailableScreen';
import { initialScreen, useUiStore } from './state/ui-store';

// The meeting view carries amazon-chime-sdk-js: loaded only when joining.
const MeetingScreen = lazy(() => import('./screens/MeetingScreen'));

export function App() {
  const screen = useUiStore((s) => s.screen);
  const loadAppVersion = useAppStore((s) => s.loadAppVersion);

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t.app.title;
  }, []);

  useEffect(() => {
    void loadAppVersion();
    if (!desktopApi()) useUiStore.getState().go(initialScreen(window.location, MEETING_CODE_PATTERN));
  }, [loadAppVersion]);

  // Invite links opened from outside the desktop app (chorus://join?...).
  useEffect(() => {
    const api = desktopApi();
    if (!api) return;
    return api.onDeepLink((invite) => {
      const ui = useUiStore.getState();
      if (ui.screen.name === 'meeting') {
        ui.toast(t.app.leaveOtherMeetingFirst, 'warning');
        return;
      }
      ui.go({ name: 'prejoin', target: { serverUrl: invite.serverUrl, meetingCode: invite.meetingCode, ...(invite.fingerprint ? { fingerprint: invite.fingerprint } : {}) } });
    });
  }, []);

  // The embedded server (desktop hosting) crashing is worth knowing about mid-meeting.
  useEffect(
    () =>
      desktopApi()?.host.onStatus((status) => {
        if (status.state === 'crashed') {
          useUiStore.getState().toast(status.restarting ? t.app.serverStoppedRestarting(status.message) : t.app.serverStopped(status.message), 'warning');
        }
      }),
    [],
  );

  // Keep the address bar meaningful in the browser: an invite link while joining, / otherwise.
  useEffect(() => {
    if (desktopApi()) return;
    const path = screen.name === 'prejoin' || screen.name === 'lobby' ? `/join/${screen.target.meetingCode}` : screen.name === 'home' ? '/' : undefined;
    if (path && window.location.pathname !== path) window.history.replaceState(null, '', path + window.location.search);
  }, [screen]);

  let body;
  switch (screen.name) {
    case 'home':
      body = <HomeScreen />;
      break;
    case 'prejoin':
      body = <PreJoinScreen key={`${screen.target.serverUrl}/${screen.target.meetingCode}`} target={screen.target} />;
      break;
    case 'lobby':
      body = <LobbyScreen key={screen.ticket} screen={screen} />;
      break;
    case 'meeting':
      body = (
        <Suspense fallback={<div className="center-screen" role="status">{t.app.joining}</div>}>
          <MeetingScreen />
        </Suspense>
      );
      break;
    case 'ended':
      body = <EndScreen />;
      break;
    case 'unavailable':
      body = <UnavailableScreen target={screen.target} failure={screen.failure} message={screen.message} reason={screen.reason} />;
      break;
    default: {
      const unreachable: never = screen;
      throw new Error(`unknown screen ${JSON.stringify(unreachable)}`);
    }
  }
  return (
    <>
      {body}
      <CapturePicker />
      <Toasts />
      <Announcer />
    </>
  );
}
