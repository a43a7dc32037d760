import { useEffect, useMemo, useRef, useState } from 'react';
import { formatInviteLink } from '../../../src-main/shared/invite-link';
import { createAppApi, type ServerInfo } from '../api/app-api';
import { qrMatrix } from '../lib/qr';
import type { MeetingIdentity } from '../state/session-store';
import { Icon } from './Icon';

const LOOPBACK = /^(https?:\/\/)(localhost|127\.|\[::1\])/;

/** The address others should use: the first non-loopback URL the server reports. */
export function inviteServerUrl(identity: Pick<MeetingIdentity, 'serverUrl'>, info: ServerInfo | undefined): string {
  return info?.urls.find((u) => !LOOPBACK.test(u)) ?? identity.serverUrl;
}

function QrCode({ text }: { text: string }) {
  const matrix = useMemo(() => qrMatrix(text), [text]);
  const n = matrix.length;
  const quiet = 4;
  let path = '';
  matrix.forEach((row, r) => row.forEach((dark, c) => {
    if (dark) path += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  }));
  return (
    <svg className="qr" viewBox={`0 0 ${n + quiet * 2} ${n + quiet * 2}`} role="img" aria-label="QR code of the invite link" data-testid="invite-qr" shapeRendering="crispEdges">
      <rect width="100%" height="100%" fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

export function InviteDialog({ identity, onClose }: { identity: MeetingIdentity; onClose: () => void }) {
  const [info, setInfo] = useState<ServerInfo>();
  const [copied, setCopied] = useState<string>();
  const dialogRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    createAppApi(identity.serverUrl).server().then(setInfo, () => undefined);
  }, [identity.serverUrl]);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialogRef.current?.querySelector<HTMLElement>('button, input')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      previous?.focus();
    };
  }, [onClose]);

  const serverUrl = inviteServerUrl(identity, info);
  const fingerprint = identity.fingerprint ?? info?.fingerprint;
  const invite = { serverUrl, meetingCode: identity.meetingCode, ...(fingerprint ? { fingerprint } : {}) };
  const webLink = formatInviteLink(invite, 'web');
  const desktopLink = formatInviteLink(invite, 'desktop');
  const copy = (label: string, text: string): void => {
    void navigator.clipboard?.writeText(text).then(() => setCopied(label), () => setCopied(undefined));
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="invite-title" ref={dialogRef} data-testid="invite-dialog">
        <header className="panel-header">
          <h2 id="invite-title">Invite people</h2>
          <button type="button" className="icon-button" aria-label="Close invite dialog" onClick={onClose}>
            <Icon name="close" />
          </button>
        </header>
        <div className="invite-body">
          <QrCode text={webLink} />
          <div className="stack">
            <label className="field">
              <span>Invite link (opens in any browser)</span>
              <div className="copy-row">
                <input readOnly value={webLink} data-testid="invite-link" onFocus={(e) => e.target.select()} />
                <button type="button" className="button" onClick={() => copy('web', webLink)}>
                  {copied === 'web' ? 'Copied' : 'Copy'}
                </button>
              </div>
            </label>
            <label className="field">
              <span>Desktop app link</span>
              <div className="copy-row">
                <input readOnly value={desktopLink} onFocus={(e) => e.target.select()} />
                <button type="button" className="button" onClick={() => copy('desktop', desktopLink)}>
                  {copied === 'desktop' ? 'Copied' : 'Copy'}
                </button>
              </div>
            </label>
            <dl className="facts">
              <dt>Meeting code</dt>
              <dd className="mono">{identity.meetingCode}</dd>
              <dt>Server address</dt>
              <dd className="mono">{serverUrl}</dd>
              {fingerprint && (
                <>
                  <dt>Certificate fingerprint (SHA-256)</dt>
                  <dd className="mono fingerprint">{fingerprint}</dd>
                </>
              )}
            </dl>
            {fingerprint && <p className="muted small">Browsers warn about the self-signed certificate. Compare the fingerprint above with the one your browser shows before continuing.</p>}
          </div>
        </div>
      </div>
    </div>
  );
}
