import { useEffect } from 'react';
import { ChatPanel } from '../components/ChatPanel';
import { ControlBar } from '../components/ControlBar';
import { Icon } from '../components/Icon';
import { InviteDialog } from '../components/InviteDialog';
import { RosterPanel } from '../components/RosterPanel';
import { VideoGrid } from '../components/VideoGrid';
import { toggleCamera, toggleMute } from '../meeting/meeting-controller';
import { useChatStore } from '../state/chat-store';
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
    <div className="reactions" aria-live="polite">
      {reactions.map((r, i) => (
        <span key={r.id} className="reaction" style={{ left: `${10 + ((i * 37) % 70)}%` }} aria-label={`${r.senderName} reacted ${r.emoji}`}>
          <span className="reaction-emoji">{r.emoji}</span>
          <span className="reaction-name">{r.senderName}</span>
        </span>
      ))}
    </div>
  );
}

export default function MeetingScreen() {
  const identity = useSessionStore((s) => s.identity);
  const phase = useSessionStore((s) => s.phase);
  const quality = useSessionStore((s) => s.networkQuality);
  const capacity = useSessionStore((s) => s.videoCapacityReached);
  const cameraOn = useSessionStore((s) => s.cameraOn);
  const count = useRosterStore((s) => Object.keys(s.attendees).length);
  const panel = useUiStore((s) => s.panel);
  const closePanel = useUiStore((s) => s.closePanel);
  const inviteOpen = useUiStore((s) => s.inviteOpen);
  const setInviteOpen = useUiStore((s) => s.setInviteOpen);
  useShortcuts();

  return (
    <main className="meeting" data-testid="meeting-screen" data-phase={phase}>
      <header className="meeting-header">
        <div className="meeting-title">
          <h1>{identity?.meetingName ?? 'Meeting'}</h1>
          <span className="muted small mono">{identity?.meetingCode}</span>
        </div>
        <div className="meeting-status">
          <span className={`quality quality-${quality}`} role="status" aria-label={`Network quality: ${quality}`} title={`Network quality: ${quality}`} data-testid="network-quality">
            <Icon name="signal" size={16} /> {quality === 'good' ? 'Good connection' : 'Poor connection'}
          </span>
          <span className="muted small">{count} in meeting</span>
        </div>
      </header>
      {phase === 'connecting' && (
        <div className="banner" role="status">
          Connecting…
        </div>
      )}
      {phase === 'reconnecting' && (
        <div className="banner warning" role="alert" data-testid="reconnecting-banner">
          Reconnecting… your connection dropped; the meeting continues as soon as it is back.
        </div>
      )}
      {capacity && !cameraOn && (
        <div className="banner" role="status" data-testid="capacity-notice">
          Video capacity reached: 16 cameras are on, so yours stays off. You can still talk, listen and watch.
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
    </main>
  );
}
