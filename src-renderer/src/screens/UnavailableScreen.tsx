import type { AppErrorReason } from '../../../src-main/shared/app-api.js';
import type { ApiFailure } from '../api/app-api';
import { t } from '../i18n/i18n';
import { useUiStore, type JoinTarget } from '../state/ui-store';

function copyFor(failure: ApiFailure, reason: AppErrorReason | undefined, message: string): { title: string; body: string } {
  if (reason === 'banned') return { title: t.unavailable.bannedTitle, body: t.unavailable.bannedBody };
  if (reason === 'denied') return { title: t.lobby.deniedTitle, body: t.lobby.deniedBody };
  if (reason === 'lobby-gone') return { title: t.lobby.goneTitle, body: t.lobby.goneBody };
  if (failure === 'Unreachable') return { title: t.unavailable.unreachableTitle, body: t.unavailable.unreachableBody };
  if (failure === 'NotFoundException') return { title: t.unavailable.notFoundTitle, body: t.unavailable.notFoundBody };
  if (failure === 'ServerError') return { title: t.unavailable.serverErrorTitle, body: t.unavailable.serverErrorBody };
  return { title: t.unavailable.cannotJoin, body: message };
}

export function UnavailableScreen({ target, failure, message, reason }: { target: JoinTarget; failure: ApiFailure; message: string; reason?: AppErrorReason | undefined }) {
  const go = useUiStore((s) => s.go);
  const copy = copyFor(failure, reason, message);
  return (
    <main className="center-screen">
      <section className="card end-card" data-testid="unavailable-screen" data-failure={failure} data-reason={reason ?? ''} aria-labelledby="unavailable-title">
        <h1 id="unavailable-title">{copy.title}</h1>
        <p>{copy.body}</p>
        <p className="muted small mono">
          {target.serverUrl} · {target.meetingCode}
        </p>
        <div className="row">
          {reason !== 'banned' && (
            <button type="button" className="button primary" onClick={() => go({ name: 'prejoin', target })}>
              {t.app.tryAgain}
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
