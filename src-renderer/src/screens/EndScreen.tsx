import { t } from '../i18n/i18n';
import { END_COPY } from '../meeting/end-reasons';
import { useSessionStore } from '../state/session-store';
import { useUiStore } from '../state/ui-store';

export function EndScreen() {
  const end = useSessionStore((s) => s.end);
  const identity = useSessionStore((s) => s.identity);
  const go = useUiStore((s) => s.go);
  const reason = end?.reason ?? 'left';
  const copy = END_COPY[reason];
  const canRejoin = identity && (reason === 'left' || reason === 'connection-lost' || reason === 'elsewhere' || reason === 'failed');
  return (
    <main className="center-screen">
      <section className="card end-card" data-testid="end-screen" data-reason={reason} aria-labelledby="end-title">
        <h1 id="end-title">{copy.title}</h1>
        <p>{end?.detail ?? copy.body}</p>
        {identity && <p className="muted">{identity.meetingName}</p>}
        <div className="row">
          {canRejoin && identity && (
            <button
              type="button"
              className="button primary"
              onClick={() => go({ name: 'prejoin', target: { serverUrl: identity.serverUrl, meetingCode: identity.meetingCode, ...(identity.fingerprint ? { fingerprint: identity.fingerprint } : {}), ...(identity.hostKey ? { hostKey: identity.hostKey } : {}) } })}
            >
              {t.end.rejoin}
            </button>
          )}
          <button type="button" className="button" onClick={() => go({ name: 'home' })}>
            {t.app.backToStart}
          </button>
        </div>
      </section>
    </main>
  );
}
