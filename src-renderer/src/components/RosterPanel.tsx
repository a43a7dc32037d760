import { useMemo } from 'react';
import { initialsOf } from '../lib/names';
import { hostAction } from '../meeting/meeting-controller';
import { isSpeaking, orderedRoster, useRosterStore } from '../state/roster-store';
import { useSessionStore } from '../state/session-store';
import { Icon } from './Icon';

export function RosterPanel({ onClose }: { onClose: () => void }) {
  const attendees = useRosterStore((s) => s.attendees);
  const identity = useSessionStore((s) => s.identity);
  const people = useMemo(() => orderedRoster(attendees, identity?.selfAttendeeId), [attendees, identity?.selfAttendeeId]);
  return (
    <aside className="side-panel" aria-labelledby="roster-title" data-testid="roster-panel">
      <header className="panel-header">
        <h2 id="roster-title">People ({people.length})</h2>
        <button type="button" className="icon-button" aria-label="Close participants" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <ul className="roster">
        {people.map((p) => {
          const self = p.attendeeId === identity?.selfAttendeeId;
          return (
            <li key={p.attendeeId} className="roster-row" data-testid="roster-row" data-name={p.name} data-muted={p.muted ? 'true' : 'false'} data-speaking={isSpeaking(p) ? 'true' : 'false'}>
              <span className={`roster-avatar ${isSpeaking(p) ? 'speaking' : ''}`} aria-hidden="true">
                {initialsOf(p.name)}
              </span>
              <span className="roster-name">
                {p.name}
                {self && <span className="muted"> (you)</span>}
                {p.sharing && <span className="badge">sharing</span>}
              </span>
              <span className="roster-state">
                <span role="img" aria-label={p.video ? 'Camera on' : 'Camera off'} title={p.video ? 'Camera on' : 'Camera off'}>
                  <Icon name={p.video ? 'cam' : 'camOff'} size={16} />
                </span>
                <span role="img" aria-label={p.muted ? 'Muted' : isSpeaking(p) ? 'Speaking' : 'Unmuted'} title={p.muted ? 'Muted' : 'Unmuted'} className={p.muted ? 'state-off' : isSpeaking(p) ? 'state-speaking' : ''}>
                  <Icon name={p.muted ? 'micOff' : 'mic'} size={16} />
                </span>
              </span>
              {identity?.isHost && !self && (
                <span className="host-actions">
                  <button type="button" className="button small" aria-label={`Mute ${p.name}`} disabled={p.muted} onClick={() => void hostAction('mute', p.attendeeId)}>
                    Mute
                  </button>
                  <button type="button" className="button small danger" aria-label={`Remove ${p.name}`} onClick={() => void hostAction('remove', p.attendeeId)} data-testid="remove-attendee">
                    Remove
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
