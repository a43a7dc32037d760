import { useEffect, useMemo, useRef, useState } from 'react';
import { ChatPanel } from '../components/ChatPanel';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ControlBar } from '../components/ControlBar';
import { Icon } from '../components/Icon';
import { InviteDialog } from '../components/InviteDialog';
import { RosterPanel } from '../components/RosterPanel';
import { VideoGrid } from '../components/VideoGrid';
import { t } from '../i18n/i18n';
import { hostAction, leave, retryConnection, toggleCamera, toggleMute } from '../meeting/meeting-controller';
import { useChatStore } from '../state/chat-store';
import { headerLabel, useConnectionStore, type HeaderLabel } from '../state/connection-store';
import { useLiveStore } from '../state/live-store';
import { useRosterStore } from '../state/roster-store';
import { useSessionStore } from '../state/session-store';
import { useUiStore } from '../state/ui-store';

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** Ctrl/⌘+D mutes, Ctrl/⌘+E toggles the camera (as in other meeting apps); not while typing. */
function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || isTyping(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === 'd') {
        e.preventDefault();
        toggleMute();
      } else if (key === 'e') {
        e.preventDefault();
        void toggleCamera();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

function Reactions() {
  const reactions = useChatStore((s) => s.reactions);
  return (
    <div className="reactions">
      {reactions.map((r, i) => (
        <span key={r.id} className="reaction" style={{ left: `${10 + ((i * 37) % 70)}%` }} aria-label={t.chat.reacted(r.senderName, r.emoji)}>
          <span className="reaction-emoji">{r.emoji}</span>
          <span className="reaction-name">{r.senderName}</span>
        </span>
      ))}
    </div>
  );
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  return h > 0 ? `${h}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}` : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

/** Time since the meeting started, on the server's clock (corrected for this device's skew). */
export function MeetingTimer() {
  const startedAt = useLiveStore((s) => s.live?.startedAt);
  const serverNow = useLiveStore((s) => s.live?.serverNow);
  // The server's clock minus ours, measured when a state arrives (not on every render, which would stop the clock).
  const skew = useMemo(() => (serverNow === undefined ? 0 : serverNow - Date.now()), [serverNow]);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (startedAt === undefined) return null;
  return (
    <span className="timer muted small mono" title={t.meeting.timer} aria-label={`${t.meeting.timer}: ${formatElapsed(now + skew - startedAt)}`} data-testid="meeting-timer" role="timer">
      <Icon name="clock" size={14} /> {formatElapsed(now + skew - startedAt)}
    </span>
  );
}

const LABEL_COPY: Record<HeaderLabel, string> = {
  good: t.connection.good,
  fair: t.connection.fair,
  poor: t.connection.poor,
  reconnecting: t.connection.reconnecting,
  offline: t.connection.offline,
};

/** When the server cannot be reached: what happened, in plain words, and what can be done. */
function ConnectionTrouble() {
  const assessment = useConnectionStore((s) => s.assessment);
  const checking = useConnectionStore((s) => s.checking);
  const serverUrl = useSessionStore((s) => s.identity?.serverUrl ?? '');
  const ref = useRef<HTMLDivElement>(null);
  const kind = assessment.unreachable;
  useEffect(() => {
    if (kind) ref.current?.querySelector<HTMLElement>('button')?.focus();
  }, [kind]);
  if (!kind) return null;
  const host = serverUrl.replace(/^https?:\/\//, '');
  const title = kind === 'refused' ? t.connection.refusedTitle : kind === 'offline' ? t.connection.offlineTitle : t.connection.timeoutTitle;
  const body = kind === 'refused' ? t.connection.refusedBody(host) : kind === 'offline' ? t.connection.offlineBody : t.connection.timeoutBody(host);
  return (
    <div className="trouble" role="alertdialog" aria-labelledby="trouble-title" aria-describedby="trouble-body" data-testid="connection-trouble" data-kind={kind} ref={ref}>
      <span className="spinner large" aria-hidden="true" />
      <div className="trouble-text">
        <h2 id="trouble-title">{title}</h2>
        <p id="trouble-body">{body}</p>
        <p className="muted small">{checking ? t.connection.retrying : t.connection.checkedAgo(assessment.silentSeconds)}</p>
      </div>
      <div className="row">
        <button type="button" className="button primary" onClick={() => void retryConnection()} disabled={checking} data-testid="trouble-retry">
          {t.connection.tryAgain}
        </button>
        <button type="button" className="button" onClick={() => void leave()} data-testid="trouble-leave">
          {t.connection.leave}
        </button>
      </div>
    </div>
  );
}

export default function MeetingScreen() {
  const identity = useSessionStore((s) => s.identity);
  const phase = useSessionStore((s) => s.phase);
  const measured = useConnectionStore((s) => headerLabel(s));
  // The SDK's own "reconnecting" shows at once; the watcher adds what the SDK does not see (stalled media, a silent server).
  const reconnecting = useConnectionStore((s) => s.assessment.reconnecting) || phase === 'reconnecting';
  const label: HeaderLabel = reconnecting && measured !== 'offline' ? 'reconnecting' : measured;
  const cause = useConnectionStore((s) => s.assessment.cause ?? (phase === 'reconnecting' ? 'sdk' : undefined));
  const figures = useConnectionStore((s) => s.measured);
  const details = figures ? t.connection.details(figures.sample.rttMs, figures.lossPct, figures.sample.jitterMs) : '';
  const qualityTitle = [t.connection.label(LABEL_COPY[label]), details].filter(Boolean).join(' — ');
  const unreachable = useConnectionStore((s) => s.assessment.unreachable !== undefined);
  const capacity = useSessionStore((s) => s.videoCapacityReached);
  const cameraOn = useSessionStore((s) => s.cameraOn);
  // People whose connection dropped, or whose app the server lost, are counted apart: they may not hear us.
  const connections = useLiveStore((s) => s.live?.connections);
  const attendees = useRosterStore((s) => s.attendees);
  const away = Object.values(attendees).filter((a) => a.droppedAt !== undefined || connections?.[a.attendeeId] === 'lost').length;
  const count = Object.keys(attendees).length - away;
  const panel = useUiStore((s) => s.panel);
  const closePanel = useUiStore((s) => s.closePanel);
  const inviteOpen = useUiStore((s) => s.inviteOpen);
  const setInviteOpen = useUiStore((s) => s.setInviteOpen);
  const confirmRemove = useUiStore((s) => s.confirmRemove);
  const askRemove = useUiStore((s) => s.askRemove);
  useShortcuts();

  return (
    <main className="meeting" data-testid="meeting-screen" data-phase={phase} data-connection={label} data-trouble={cause}>
      <header className="meeting-header">
        <div className="meeting-title">
          <h1>{identity?.meetingName ?? t.meeting.defaultTitle}</h1>
          <span className="muted small mono">{identity?.meetingCode}</span>
          <MeetingTimer />
        </div>
        <div className="meeting-status">
          <span className={`quality quality-${label}`} role="status" aria-label={t.connection.label(LABEL_COPY[label])} title={qualityTitle} data-testid="network-quality" data-level={label} data-observed={figures?.observed}>
            <Icon name="signal" size={16} /> {LABEL_COPY[label]}
          </span>
          <span className="muted small" data-testid="people-count" data-count={count} data-away={away}>
            {t.meeting.peopleCount(count)}
            {away > 0 && ` · ${t.meeting.reconnectingCount(away)}`}
          </span>
        </div>
      </header>
      {phase === 'connecting' && !reconnecting && (
        <div className="banner" role="status">
          {t.meeting.connecting}
        </div>
      )}
      {reconnecting && !unreachable && phase !== 'connecting' && (
        <div className="banner warning" role="alert" data-testid="reconnecting-banner">
          <span className="spinner" aria-hidden="true" /> {t.connection.reconnectingBanner}
        </div>
      )}
      <ConnectionTrouble />
      {capacity && !cameraOn && (
        <div className="banner" role="status" data-testid="capacity-notice">
          {t.meeting.capacity}
        </div>
      )}
      <div className="meeting-body">
        <VideoGrid />
        {panel === 'chat' && <ChatPanel onClose={closePanel} />}
        {panel === 'roster' && <RosterPanel onClose={closePanel} />}
        <Reactions />
      </div>
      <ControlBar />
      {inviteOpen && identity && <InviteDialog identity={identity} onClose={() => setInviteOpen(false)} />}
      {confirmRemove && (
        <ConfirmDialog
          title={t.roster.confirmRemoveTitle(confirmRemove.name)}
          body={t.roster.confirmRemoveBody}
          confirmLabel={t.roster.confirmRemove}
          danger
          onCancel={() => askRemove(undefined)}
          onConfirm={() => {
            askRemove(undefined);
            void hostAction('remove', confirmRemove.attendeeId);
          }}
        />
      )}
    </main>
  );
}
