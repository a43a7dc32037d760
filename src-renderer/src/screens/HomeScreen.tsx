import { useEffect, useState, type FormEvent } from 'react';
import { isMeetingCode, parseInviteLink } from '../../../src-main/shared/invite-link';
import type { DiscoveredServer } from '../../../src-main/shared/desktop-api';
import { createAppApi, type MeetingListing } from '../api/app-api';
import { useAppStore } from '../app-store';
import { desktopApi } from '../host-environment';
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
    if (!isMeetingCode(normalised)) return setError('A meeting code looks like abc-defg-hij');
    let serverUrl: string;
    try {
      const url = new URL(/^https?:\/\//.test(server.trim()) ? server.trim() : `https://${server.trim()}`);
      serverUrl = url.origin;
    } catch {
      return setError('Enter the server address, for example https://192.168.1.20:8443');
    }
    go({ name: 'prejoin', target: { serverUrl, meetingCode: normalised } });
  };

  return (
    <section className="card" aria-labelledby="join-title">
      <h2 id="join-title">Join a meeting</h2>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Invite link</span>
          <input value={link} onChange={(e) => setLink(e.target.value)} placeholder="https://…/join/abc-defg-hij" data-testid="invite-link-input" />
        </label>
        <div className="divider" role="presentation">
          or
        </div>
        {desktop && (
          <label className="field">
            <span>Server address</span>
            <input value={server} onChange={(e) => setServer(e.target.value)} placeholder="https://192.168.1.20:8443" />
          </label>
        )}
        <label className="field">
          <span>Meeting code</span>
          <input value={code} onChange={(e) => setCode(e.target.value)} placeholder="abc-defg-hij" autoCapitalize="off" spellCheck={false} data-testid="meeting-code-input" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" data-testid="join-continue">
          Continue
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // In a browser, hosting is possible only where the operator allowed it (--allow-web-hosting).
  const [webHosting, setWebHosting] = useState<boolean>();
  useEffect(() => {
    if (api) return;
    createAppApi(window.location.origin)
      .server()
      .then((info) => setWebHosting(info.webHosting === true), () => setWebHosting(false));
  }, [api]);

  if (!api && !webHosting) {
    return (
      <section className="card" aria-labelledby="host-title">
        <h2 id="host-title">Host a meeting</h2>
        <p className="muted">Meetings are hosted by the Chorus desktop app (press “Host”), or by the person running this server:</p>
        <pre className="code">npm run server -- --meeting "Team sync"</pre>
        <p className="muted small">The server prints an invite link to share. Anyone on the network can then join from a browser. Started with --allow-web-hosting, the server lets this page create meetings too.</p>
      </section>
    );
  }

  const host = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const input = { name: name.trim() || 'Meeting', ...(passcode ? { passcode } : {}) };
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
      <h2 id="host-title">Host a meeting</h2>
      <form onSubmit={(e) => void host(e)} className="stack">
        <label className="field">
          <span>Meeting name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} placeholder="Team sync" data-testid="host-name" />
        </label>
        <label className="field">
          <span>Passcode (optional)</span>
          <input value={passcode} onChange={(e) => setPasscode(e.target.value)} minLength={4} maxLength={32} type="password" autoComplete="new-password" data-testid="host-passcode" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy} data-testid="host-button">
          {busy ? 'Starting…' : api ? 'Host on this computer' : 'Host on this server'}
        </button>
      </form>
    </section>
  );
}

/** Meetings to join with one click: on LAN servers found by mDNS (desktop), or on this server (browser). */
function NearbyCard() {
  const go = useUiStore((s) => s.go);
  const [meetings, setMeetings] = useState<ListedMeeting[]>([]);
  const [servers, setServers] = useState<DiscoveredServer[] | undefined>(desktopApi() ? undefined : [{ name: 'This server', serverUrl: window.location.origin }]);

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
      <h2 id="nearby-title">{desktopApi() ? 'On your network' : 'Meetings on this server'}</h2>
      {meetings.length === 0 ? (
        <p className="muted">{servers === undefined ? 'Looking for meetings…' : 'No meetings right now.'}</p>
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
                  {m.name} {m.passcodeRequired && <span className="badge">passcode</span>}
                </span>
                <span className="muted small">
                  {m.attendees} in the meeting · {m.serverName}
                </span>
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
      <h2 id="recent-title">Recent meetings</h2>
      <ul className="list">
        {recent.map((r) => (
          <li key={`${r.serverUrl}/${r.meetingCode}`}>
            <button type="button" className="list-item" onClick={() => go({ name: 'prejoin', target: target(r) })}>
              <span className="list-title">{r.name || r.meetingCode}</span>
              <span className="muted small">
                {r.meetingCode} · {new Date(r.joinedAt).toLocaleString()}
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
          <h1>Chorus</h1>
        </div>
        <p className="muted">Meetings on your own network. Nothing leaves the room.</p>
        <p className="muted small" data-testid="host-kind">
          {host === 'desktop' ? `Desktop app${appVersion ? ` ${appVersion}` : ''}` : 'Web client'}
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
