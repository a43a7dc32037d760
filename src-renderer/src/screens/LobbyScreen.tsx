import { useEffect, useState } from 'react';
import { AppApiError, createAppApi } from '../api/app-api';
import { t } from '../i18n/i18n';
import { recallSecrets } from '../lib/session-memory';
import { enterMeeting } from '../meeting/enter';
import { announce } from '../state/announcer-store';
import { useUiStore, type Screen } from '../state/ui-store';

type LobbyScreenState = Extract<Screen, { name: 'lobby' }>;

/**
 * The waiting room, as the guest sees it: asks the server again and again (each
 * ask is held until the host decides, or 20 s) and goes into the meeting the
 * moment it is admitted. Leaving the page or pressing the button gives up the place.
 */
export function LobbyScreen({ screen }: { screen: LobbyScreenState }) {
  const go = useUiStore((s) => s.go);
  const [position, setPosition] = useState<number>();
  const { target, ticket, options, meetingName } = screen;

  useEffect(() => {
    const api = createAppApi(target.serverUrl);
    const controller = new AbortController();
    let stopped = false;
    announce(t.lobby.waitingAnnouncement);
    const giveUp = (): void => {
      // keepalive: the request outlives the page that is closing.
      void fetch(`${api.serverUrl}/app/api/meetings/${encodeURIComponent(target.meetingCode)}/lobby/leave`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ticket }),
        keepalive: true,
      }).catch(() => undefined);
    };
    window.addEventListener('pagehide', giveUp);
    const loop = async (): Promise<void> => {
      while (!stopped) {
        try {
          const answer = await api.lobbyWait(target.meetingCode, ticket, controller.signal);
          if (stopped) return;
          if ('waiting' in answer) {
            setPosition(answer.position);
            continue;
          }
          stopped = true;
          await enterMeeting(target, answer, options, meetingName, recallSecrets(target.serverUrl, target.meetingCode).passcode, target.fingerprint);
          return;
        } catch (error) {
          if (stopped) return;
          if (error instanceof AppApiError && error.status > 0) {
            stopped = true;
            go({ name: 'unavailable', target, failure: error.failure, message: error.message, ...(error.reason ? { reason: error.reason } : {}) });
            return;
          }
          // The server did not answer: keep the place and ask again shortly.
          await new Promise((r) => setTimeout(r, 2_000));
        }
      }
    };
    void loop();
    return () => {
      stopped = true;
      controller.abort();
      window.removeEventListener('pagehide', giveUp);
    };
  }, [target, ticket, options, meetingName, go]);

  const cancel = (): void => {
    void createAppApi(target.serverUrl).lobbyLeave(target.meetingCode, ticket).catch(() => undefined);
    go({ name: 'prejoin', target });
  };

  return (
    <main className="center-screen">
      <section className="card end-card lobby-card" data-testid="lobby-screen" aria-labelledby="lobby-title" aria-busy="true">
        <div className="lobby-dots" aria-hidden="true">
          <i />
          <i />
          <i />
        </div>
        <h1 id="lobby-title">{t.lobby.title}</h1>
        <p>{t.lobby.body(meetingName)}</p>
        {position !== undefined && (
          <p className="muted" data-testid="lobby-position">
            {t.lobby.position(position)}
          </p>
        )}
        <p className="muted small mono">{options.displayName}</p>
        <button type="button" className="button" onClick={cancel} data-testid="lobby-cancel">
          {t.lobby.cancel}
        </button>
      </section>
    </main>
  );
}
