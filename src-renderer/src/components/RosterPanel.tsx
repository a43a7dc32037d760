import { useMemo } from 'react';
import type { LiveState, Role } from '../../../src-main/shared/app-api.js';
import { t } from '../i18n/i18n';
import { initialsOf } from '../lib/names';
import { personConnection, type PersonConnection } from '../lib/tile-health';
import { hostAction } from '../meeting/meeting-controller';
import { admit, admitAll, allowUnmute, deny, liftBan, lowerHandOf, muteAll, setHand, setLobby, setRole } from '../meeting/moderation';
import { headerLabel, useConnectionStore } from '../state/connection-store';
import { isModerator, roleOf, useLiveStore, verdictOf, visibleHands } from '../state/live-store';
import { useMediaHealthStore } from '../state/media-health-store';
import { isSpeaking, orderedRoster, useRosterStore, type RosterEntry } from '../state/roster-store';
import { useSessionStore } from '../state/session-store';
import { useUiStore } from '../state/ui-store';
import { Icon } from './Icon';

const CONNECTION_COPY: Record<PersonConnection, string> = {
  good: t.roster.connectionGood,
  fair: t.roster.connectionFair,
  poor: t.roster.connectionPoor,
  reconnecting: t.roster.connectionReconnecting,
};

function ConnectionBars({ state }: { state: PersonConnection }) {
  const bars = state === 'good' ? 3 : state === 'fair' ? 2 : state === 'poor' ? 1 : 0;
  return (
    <span className={`conn conn-${state}`} role="img" aria-label={t.roster.connection(CONNECTION_COPY[state])} title={CONNECTION_COPY[state]} data-testid="connection" data-state={state}>
      {[1, 2, 3].map((n) => (
        <i key={n} className={n <= bars ? 'on' : ''} />
      ))}
    </span>
  );
}

/** What the viewer may do to this person: the host to anyone else, a co-host to guests. */
function authority(viewer: Role, target: Role): boolean {
  if (viewer === 'host') return target !== 'host';
  if (viewer === 'cohost') return target === 'guest';
  return false;
}

function PersonRow({ p, self, live, viewerRole }: { p: RosterEntry; self: boolean; live: LiveState | undefined; viewerRole: Role }) {
  const frozen = useMediaHealthStore((s) => Boolean(s.frozen[p.attendeeId]));
  const own = useConnectionStore((s) => headerLabel(s));
  const askRemove = useUiStore((s) => s.askRemove);
  const role = roleOf(live, p.attendeeId);
  const locked = live?.audioLocked.includes(p.attendeeId) ?? false;
  const connection: PersonConnection = self
    ? own === 'offline'
      ? 'reconnecting'
      : own
    : personConnection({ dropped: p.droppedAt !== undefined, verdict: verdictOf(live, p.attendeeId), frozen, poorConnection: false, signal: p.signal });
  const speaking = isSpeaking(p);
  const canAct = !self && authority(viewerRole, role);
  return (
    <li className="roster-row" data-testid="roster-row" data-name={p.name} data-muted={p.muted ? 'true' : 'false'} data-speaking={speaking ? 'true' : 'false'} data-role={role} data-locked={locked ? 'true' : 'false'}>
      <span className={`roster-avatar ${speaking ? 'speaking' : ''}`} aria-hidden="true">
        {initialsOf(p.name)}
      </span>
      <span className="roster-name">
        {p.name}
        {self && <span className="muted"> {t.roster.you}</span>}
        {role !== 'guest' && <span className="badge">{role === 'host' ? t.roster.host : t.roster.cohost}</span>}
        {p.sharing && <span className="badge">{t.roster.sharing}</span>}
      </span>
      <span className="roster-state">
        <ConnectionBars state={connection} />
        <span role="img" aria-label={p.video ? t.roster.cameraOn : t.roster.cameraOff} title={p.video ? t.roster.cameraOn : t.roster.cameraOff}>
          <Icon name={p.video ? 'cam' : 'camOff'} size={16} />
        </span>
        <span
          role="img"
          aria-label={locked ? t.roster.locked : p.muted ? t.roster.muted : speaking ? t.roster.speaking : t.roster.unmuted}
          title={locked ? t.roster.locked : p.muted ? t.roster.muted : t.roster.unmuted}
          className={p.muted || locked ? 'state-off' : speaking ? 'state-speaking' : ''}
        >
          <Icon name={locked ? 'lock' : p.muted ? 'micOff' : 'mic'} size={16} />
        </span>
      </span>
      {canAct && (
        <span className="host-actions">
          {locked ? (
            <button type="button" className="button small" aria-label={t.roster.allowUnmuteName(p.name)} onClick={() => void allowUnmute(p.attendeeId)} data-testid="allow-unmute">
              {t.roster.allowUnmute}
            </button>
          ) : (
            <button type="button" className="button small" aria-label={t.roster.muteName(p.name)} disabled={p.muted && role !== 'guest'} onClick={() => void hostAction('mute', p.attendeeId)} data-testid="mute-attendee">
              {t.roster.mute}
            </button>
          )}
          {viewerRole === 'host' &&
            (role === 'cohost' ? (
              <button type="button" className="button small" aria-label={t.roster.removeCohostName(p.name)} onClick={() => void setRole(p.attendeeId, 'guest')} data-testid="unmake-cohost">
                {t.roster.removeCohost}
              </button>
            ) : (
              <button type="button" className="button small" aria-label={t.roster.makeCohostName(p.name)} onClick={() => void setRole(p.attendeeId, 'cohost')} data-testid="make-cohost">
                {t.roster.makeCohost}
              </button>
            ))}
          <button type="button" className="button small danger" aria-label={t.roster.removeName(p.name)} onClick={() => askRemove({ attendeeId: p.attendeeId, name: p.name })} data-testid="remove-attendee">
            {t.roster.remove}
          </button>
        </span>
      )}
    </li>
  );
}

function ModeratorSections({ live }: { live: LiveState }) {
  return (
    <>
      <div className="roster-tools">
        <button type="button" className="button small" onClick={() => void muteAll()} data-testid="mute-all">
          {t.roster.muteAll}
        </button>
        <label className="check small">
          <input type="checkbox" checked={live.lobbyEnabled} onChange={(e) => void setLobby(e.target.checked)} data-testid="lobby-toggle" />
          {t.roster.lobbySetting}
        </label>
      </div>
      {live.waiting.length > 0 && (
        <section className="roster-section" aria-labelledby="waiting-title" data-testid="lobby-list">
          <header className="roster-section-head">
            <h3 id="waiting-title">{t.roster.waitingTitle(live.waiting.length)}</h3>
            {live.waiting.length > 1 && (
              <button type="button" className="button small primary" onClick={() => void admitAll()} data-testid="admit-all">
                {t.roster.admitAll}
              </button>
            )}
          </header>
          <ul className="roster compact">
            {live.waiting.map((w) => (
              <li key={w.id} className="roster-row simple" data-testid="waiting-row" data-name={w.name}>
                <span className="roster-name">{w.name}</span>
                <span className="row-actions">
                  <button type="button" className="button small primary" aria-label={t.roster.admitName(w.name)} onClick={() => void admit(w.id)} data-testid="admit">
                    {t.roster.admit}
                  </button>
                  <button type="button" className="button small" aria-label={t.roster.denyName(w.name)} onClick={() => void deny(w.id)} data-testid="deny">
                    {t.roster.deny}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {live.unmuteRequests.length > 0 && (
        <section className="roster-section" aria-labelledby="unmute-title" data-testid="unmute-requests">
          <header className="roster-section-head">
            <h3 id="unmute-title">{t.roster.unmuteRequestsTitle(live.unmuteRequests.length)}</h3>
          </header>
          <ul className="roster compact">
            {live.unmuteRequests.map((r) => (
              <li key={r.attendeeId} className="roster-row simple" data-testid="unmute-request" data-name={r.name}>
                <span className="roster-name">{r.name}</span>
                <span className="row-actions">
                  <button type="button" className="button small primary" aria-label={t.roster.allowUnmuteName(r.name)} onClick={() => void allowUnmute(r.attendeeId)} data-testid="allow-unmute-request">
                    {t.roster.allowUnmute}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

export function RosterPanel({ onClose }: { onClose: () => void }) {
  const attendees = useRosterStore((s) => s.attendees);
  const identity = useSessionStore((s) => s.identity);
  const live = useLiveStore((s) => s.live);
  const selfId = identity?.selfAttendeeId;
  const people = useMemo(() => orderedRoster(attendees, selfId), [attendees, selfId]);
  // Without the live state yet, the host key still makes us the host.
  const viewerRole: Role = live?.self.role ?? (identity?.isHost ? 'host' : 'guest');
  const moderator = viewerRole !== 'guest';
  const hands = visibleHands(live, attendees);
  return (
    <aside className="side-panel" aria-labelledby="roster-title" data-testid="roster-panel">
      <header className="panel-header">
        <h2 id="roster-title">{t.roster.title(people.length)}</h2>
        <button type="button" className="icon-button" aria-label={t.roster.close} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="roster-scroll">
        {moderator && live && isModerator(live) && <ModeratorSections live={live} />}
        {hands.length > 0 && (
          <section className="roster-section" aria-labelledby="hands-title" data-testid="hand-queue">
            <header className="roster-section-head">
              <h3 id="hands-title">{t.roster.handsTitle(hands.length)}</h3>
            </header>
            <ol className="roster compact">
              {hands.map((h, i) => (
                <li key={h.attendeeId} className="roster-row simple" data-testid="hand-row" data-name={h.name}>
                  <span className="hand-position" aria-hidden="true">
                    {t.roster.handPosition(i + 1)}
                  </span>
                  <span className="roster-name">
                    <Icon name="hand" size={14} /> {h.name}
                    {h.attendeeId === selfId && <span className="muted"> {t.roster.you}</span>}
                  </span>
                  {(moderator || h.attendeeId === selfId) && (
                    <span className="row-actions">
                      <button
                        type="button"
                        className="button small"
                        aria-label={h.attendeeId === selfId ? t.controls.lowerHand : t.roster.lowerHandName(h.name)}
                        onClick={() => void (h.attendeeId === selfId ? setHand(false) : lowerHandOf(h.attendeeId))}
                        data-testid="lower-hand"
                      >
                        {t.roster.lowerHand}
                      </button>
                    </span>
                  )}
                </li>
              ))}
            </ol>
          </section>
        )}
        <section className="roster-section" aria-labelledby="people-title">
          <header className="roster-section-head">
            <h3 id="people-title">{t.roster.inMeetingTitle}</h3>
          </header>
          <ul className="roster">
            {people.map((p) => (
              <PersonRow key={p.attendeeId} p={p} self={p.attendeeId === selfId} live={live} viewerRole={viewerRole} />
            ))}
          </ul>
        </section>
        {moderator && live && live.banned.length > 0 && (
          <section className="roster-section" aria-labelledby="banned-title" data-testid="banned-list">
            <header className="roster-section-head">
              <h3 id="banned-title">{t.roster.bannedTitle(live.banned.length)}</h3>
            </header>
            <ul className="roster compact">
              {live.banned.map((b) => (
                <li key={b.id} className="roster-row simple" data-testid="banned-row" data-name={b.name}>
                  <span className="roster-name">{b.name}</span>
                  <span className="row-actions">
                    <button type="button" className="button small" aria-label={t.roster.liftBanName(b.name)} onClick={() => void liftBan(b.id)} data-testid="lift-ban">
                      {t.roster.liftBan}
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </aside>
  );
}
