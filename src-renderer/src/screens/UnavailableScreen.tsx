import type { ApiFailure } from '../api/app-api';
import { useUiStore, type JoinTarget } from '../state/ui-store';

const COPY: Partial<Record<ApiFailure, { title: string; body: string }>> = {
  Unreachable: { title: 'Server unreachable', body: 'The meeting server does not answer. Check that you are on the same network and that the host is still hosting.' },
  NotFoundException: { title: 'Meeting not found', body: 'There is no meeting with this code on the server. It may have ended.' },
  ServerError: { title: 'Server error', body: 'The meeting server had a problem answering.' },
};

export function UnavailableScreen({ target, failure, message }: { target: JoinTarget; failure: ApiFailure; message: string }) {
  const go = useUiStore((s) => s.go);
  const copy = COPY[failure] ?? { title: 'Cannot join', body: message };
  return (
    <main className="center-screen">
      <section className="card end-card" data-testid="unavailable-screen" data-failure={failure} aria-labelledby="unavailable-title">
        <h1 id="unavailable-title">{copy.title}</h1>
        <p>{copy.body}</p>
        <p className="muted small mono">
          {target.serverUrl} · {target.meetingCode}
        </p>
        <div className="row">
          <button type="button" className="button primary" onClick={() => go({ name: 'prejoin', target })}>
            Try again
          </button>
          <button type="button" className="button" onClick={() => go({ name: 'home' })}>
            Back to start
          </button>
        </div>
      </section>
    </main>
  );
}
