import { useEffect, useState, type FormEvent } from 'react';
import { PASSCODE_LIMITS, passcodeMinimum } from '../../../src-main/shared/app-api.js';
import { isMeetingCode, parseInviteLink } from '../../../src-main/shared/invite-link';
import type { DiscoveredServer } from '../../../src-main/shared/desktop-api';
import { createAppApi, type MeetingListing } from '../api/app-api';
import { useAppStore } from '../app-store';
import { desktopApi } from '../host-environment';
import { dateTimeFormat, t } from '../i18n/i18n';
import { loadRecent, type RecentMeeting } from '../lib/prefs';
import { useUiStore, type JoinTarget } from '../state/ui-store';

interface ListedMeeting extends MeetingListing {
  serverUrl: string;
  serverName: string;
  fingerprint?: string;
}

function JoinCard() {
  const go = useUiStore((s) => s.go);
  const desktop = desktopApi() !== undefined;
  const [link, setLink] = useState('');
  const [server, setServer] = useState(desktop ? '' : window.location.origin);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setError(undefined);
    if (link.trim() !== '') {
      const parsed = parseInviteLink(link);
      if (!parsed.ok) return setError(parsed.error);
      const { invite } = parsed;
      go({ name: 'prejoin', target: { serverUrl: invite.serverUrl, meetingCode: invite.meetingCode, ...(invite.fingerprint ? { fingerprint: invite.fingerprint } : {}) } });
      return;
    }
    const normalised = code.trim().toLowerCase().replace(/\s+/g, '');
    if (!isMeetingCode(normalised)) return setError(t.home.codeFormat);
    let serverUrl: string;
    try {
      const url = new URL(/^https?:\/\//.test(server.trim()) ? server.trim() : `https://${server.trim()}`);
      serverUrl = url.origin;
    } catch {
      return setError(t.home.serverFormat);
    }
    go({ name: 'prejoin', target: { serverUrl, meetingCode: normalised } });
  };

  return (
    <section className="card" aria-labelledby="join-title">
      <h2 id="join-title">{t.home.joinTitle}</h2>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>{t.home.inviteLink}</span>
          <input value={link} onChange={(e) => setLink(e.target.value)} placeholder={t.home.inviteLinkPlaceholder} data-testid="invite-link-input" />
        </label>
        <div className="divider" role="presentation">
          {t.home.or}
        </div>
        {desktop && (
          <label className="field">
            <span>{t.home.serverAddress}</span>
            <input value={server} onChange={(e) => setServer(e.target.value)} placeholder={t.home.serverAddressPlaceholder} />
          </label>
        )}
        <label className="field">
          <span>{t.home.meetingCode}</span>
          <input value={code} onChange={(e) => setCode(e.target.value)} placeholder={t.home.meetingCodePlaceholder} autoCapitalize="off" spellCheck={false} data-testid="meeting-code-input" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" data-testid="join-continue">
          {t.home.continue}
        </button>
      </form>
    </section>
  );
}

function HostCard() {
  const api = desktopApi();
  const go = useUiStore((s) => s.go);
  const [name, setName] = useState('');
  const [passcode, setPasscode] = useState('');
  const [lobby, setLobby] = useState(false);
  const [passcodeError, setPasscodeError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // In a browser, hosting is possible only where the operator allowed it (--allow-web-hosting).
  const [webHosting, setWebHosting] = useState<boolean>();
  // A server that lists its meetings to anyone (the default, and the desktop's own) needs longer passcodes.
  const [listed, setListed] = useState<boolean>();
  const minPasscode = passcodeMinimum(listed);
  useEffect(() => {
    if (api) return;
    createAppApi(window.location.origin)
      .server()
      .then((info) => {
        setWebHosting(info.webHosting === true);
        setListed(info.listed);
      }, () => setWebHosting(false));
  }, [api]);

  if (!api && !webHosting) {
    return (
      <section className="card" aria-labelledby="host-title">
        <h2 id="host-title">{t.home.hostTitle}</h2>
        <p className="muted">{t.home.hostElsewhere}</p>
        <pre className="code">{t.home.hostCommand}</pre>
        <p className="muted small">{t.home.hostElsewhereDetail}</p>
      </section>
    );
  }

  const host = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    // Checked here, in the app's words, rather than by the browser's own bubble.
    const length = [...passcode].length;
    if (passcode !== '' && length < minPasscode) return setPasscodeError(t.home.passcodeTooShort(minPasscode));
    if (length > PASSCODE_LIMITS.max) return setPasscodeError(t.home.passcodeTooLong(PASSCODE_LIMITS.max));
    setPasscodeError(undefined);
    setBusy(true);
    setError(undefined);
    try {
      const input = { name: name.trim() || t.home.defaultMeetingName, ...(passcode ? { passcode } : {}), ...(lobby ? { lobby } : {}) };
      if (api) {
        const info = await api.host.start();
        const created = await createAppApi(info.localUrl).create(input, info.bearerToken);
        go({ name: 'prejoin', target: { serverUrl: info.localUrl, meetingCode: created.meetingCode, fingerprint: info.fingerprint, hostKey: created.hostKey } });
      } else {
        const created = await createAppApi(window.location.origin).create(input);
        go({ name: 'prejoin', target: { serverUrl: window.location.origin, meetingCode: created.meetingCode, hostKey: created.hostKey } });
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="host-title">
      <h2 id="host-title">{t.home.hostTitle}</h2>
      <form onSubmit={(e) => void host(e)} className="stack" noValidate>
        <label className="field">
          <span>{t.home.meetingName}</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} placeholder={t.home.meetingNamePlaceholder} data-testid="host-name" />
        </label>
        <label className="field">
          <span>{t.home.passcodeOptional}</span>
          <input
            value={passcode}
            onChange={(e) => {
              setPasscode(e.target.value);
              setPasscodeError(undefined);
            }}
            type="password"
            autoComplete="new-password"
            aria-invalid={passcodeError ? true : undefined}
            aria-describedby="host-passcode-hint"
            data-testid="host-passcode"
          />
          {passcodeError ? (
            <span className="field-error" role="alert" id="host-passcode-hint" data-testid="host-passcode-error">
              {passcodeError}
            </span>
          ) : (
            <span className="field-hint" id="host-passcode-hint">
              {t.home.passcodeHint(minPasscode, PASSCODE_LIMITS.max)}
            </span>
          )}
        </label>
        <label className="check">
          <input type="checkbox" checked={lobby} onChange={(e) => setLobby(e.target.checked)} data-testid="host-lobby" />
          <span>
            {t.home.lobbyOption}
            <span className="field-hint block">{t.home.lobbyOptionHint}</span>
          </span>
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy} data-testid="host-button">
          {busy ? t.home.starting : api ? t.home.hostHere : t.home.hostOnServer}
        </button>
      </form>
    </section>
  );
}

/** Meetings to join with one click: on LAN servers found by mDNS (desktop), or on this server (browser). */
function NearbyCard() {
  const go = useUiStore((s) => s.go);
  const [meetings, setMeetings] = useState<ListedMeeting[]>([]);
  const [servers, setServers] = useState<DiscoveredServer[] | undefined>(desktopApi() ? undefined : [{ name: t.home.thisServer, serverUrl: window.location.origin }]);

  useEffect(() => desktopApi()?.discovery.onServers(setServers), []);

  useEffect(() => {
    if (!servers) return;
    let cancelled = false;
    const load = async (): Promise<void> => {
      const lists = await Promise.all(
        servers.map(async (s) => {
          try {
            const list = await createAppApi(s.serverUrl).listMeetings();
            return list.map((m) => ({ ...m, serverUrl: s.serverUrl, serverName: s.name, ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}) }));
          } catch {
            return [];
          }
        }),
      );
      if (!cancelled) setMeetings(lists.flat());
    };
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [servers]);

  return (
    <section className="card" aria-labelledby="nearby-title">
      <h2 id="nearby-title">{desktopApi() ? t.home.nearbyDesktop : t.home.nearbyBrowser}</h2>
      {meetings.length === 0 ? (
        <p className="muted">{servers === undefined ? t.home.lookingForMeetings : t.home.noMeetings}</p>
      ) : (
        <ul className="list" data-testid="nearby-meetings">
          {meetings.map((m) => (
            <li key={`${m.serverUrl}/${m.meetingCode}`}>
              <button
                type="button"
                className="list-item"
                onClick={() => go({ name: 'prejoin', target: { serverUrl: m.serverUrl, meetingCode: m.meetingCode, ...(m.fingerprint ? { fingerprint: m.fingerprint } : {}) } })}
              >
                <span className="list-title">
                  {m.name} {m.passcodeRequired && <span className="badge">{t.home.passcodeBadge}</span>}
                </span>
                <span className="muted small">{t.home.inMeetingOn(m.attendees, m.serverName)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RecentCard({ recent }: { recent: RecentMeeting[] }) {
  const go = useUiStore((s) => s.go);
  if (recent.length === 0) return null;
  const target = (r: RecentMeeting): JoinTarget => ({ serverUrl: r.serverUrl, meetingCode: r.meetingCode, ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}) });
  return (
    <section className="card" aria-labelledby="recent-title">
      <h2 id="recent-title">{t.home.recentTitle}</h2>
      <ul className="list">
        {recent.map((r) => (
          <li key={`${r.serverUrl}/${r.meetingCode}`}>
            <button type="button" className="list-item" onClick={() => go({ name: 'prejoin', target: target(r) })}>
              <span className="list-title">{r.name || r.meetingCode}</span>
              <span className="muted small">
                {r.meetingCode} · {dateTimeFormat.format(r.joinedAt)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function HomeScreen() {
  const host = useAppStore((s) => s.host);
  const appVersion = useAppStore((s) => s.appVersion);
  const [recent] = useState(loadRecent);
  return (
    <main className="home" data-testid="home-screen">
      <header className="home-header">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <h1>{t.app.title}</h1>
        </div>
        <p className="muted">{t.app.tagline}</p>
        <p className="muted small" data-testid="host-kind">
          {host === 'desktop' ? t.app.desktopApp(appVersion) : t.app.webClient}
        </p>
      </header>
      <div className="home-grid">
        <JoinCard />
        <HostCard />
        <NearbyCard />
        <RecentCard recent={recent} />
      </div>
    </main>
  );
}
