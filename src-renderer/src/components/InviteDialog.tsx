import { useEffect, useMemo, useRef, useState } from 'react';
import { formatInviteLink } from '../../../src-main/shared/invite-link';
import { createAppApi, type ServerInfo } from '../api/app-api';
import { t } from '../i18n/i18n';
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
    <svg className="qr" viewBox={`0 0 ${n + quiet * 2} ${n + quiet * 2}`} role="img" aria-label={t.invite.qr} data-testid="invite-qr" shapeRendering="crispEdges">
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
          <h2 id="invite-title">{t.invite.title}</h2>
          <button type="button" className="icon-button" aria-label={t.invite.close} onClick={onClose}>
            <Icon name="close" />
          </button>
        </header>
        <div className="invite-body">
          <QrCode text={webLink} />
          <div className="stack">
            <label className="field">
              <span>{t.invite.webLink}</span>
              <div className="copy-row">
                <input readOnly value={webLink} data-testid="invite-link" onFocus={(e) => e.target.select()} />
                <button type="button" className="button" onClick={() => copy('web', webLink)}>
                  {copied === 'web' ? t.invite.copied : t.invite.copy}
                </button>
              </div>
            </label>
            <label className="field">
              <span>{t.invite.desktopLink}</span>
              <div className="copy-row">
                <input readOnly value={desktopLink} onFocus={(e) => e.target.select()} />
                <button type="button" className="button" onClick={() => copy('desktop', desktopLink)}>
                  {copied === 'desktop' ? t.invite.copied : t.invite.copy}
                </button>
              </div>
            </label>
            <dl className="facts">
              <dt>{t.invite.code}</dt>
              <dd className="mono">{identity.meetingCode}</dd>
              <dt>{t.invite.server}</dt>
              <dd className="mono">{serverUrl}</dd>
              {fingerprint && (
                <>
                  <dt>{t.invite.fingerprint}</dt>
                  <dd className="mono fingerprint">{fingerprint}</dd>
                </>
              )}
            </dl>
            {fingerprint && <p className="muted small">{t.invite.fingerprintHint}</p>}
          </div>
        </div>
      </div>
    </div>
  );
}
