import { useEffect, useRef, useState } from 'react';
import type { CapturePickerRequest } from '../../../src-main/shared/desktop-api';
import { desktopApi } from '../host-environment';
import { t } from '../i18n/i18n';

/**
 * The desktop app's screen/window picker: the shell intercepts getDisplayMedia,
 * sends the sources here, and waits for choose(). Absent in a browser, which
 * shows its own picker.
 */
export function CapturePicker() {
  const [request, setRequest] = useState<CapturePickerRequest>();
  const [audio, setAudio] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => desktopApi()?.capture.onPickerRequest((r) => setRequest(r)), []);
  // Focus the first source when a picker opens, not on every thumbnail refresh
  // (the shell re-sends the sources every 1.5 s, which would steal the keyboard focus).
  const requestId = request?.requestId;
  useEffect(() => {
    if (requestId) ref.current?.querySelector<HTMLElement>('button')?.focus();
  }, [requestId]);

  if (!request) return null;
  const answer = (sourceId: string | null): void => {
    const api = desktopApi();
    setRequest(undefined);
    void api?.capture.choose(request.requestId, sourceId === null ? null : { sourceId, audio: audio && request.audioAvailable });
  };
  const screens = request.sources.filter((s) => s.kind === 'screen');
  const windows = request.sources.filter((s) => s.kind === 'window');
  const group = (title: string, list: typeof request.sources) =>
    list.length > 0 && (
      <section>
        <h3 className="picker-heading">{title}</h3>
        <ul className="picker-grid">
          {list.map((s) => (
            <li key={s.id}>
              <button type="button" className="picker-source" onClick={() => answer(s.id)} aria-label={t.picker.share(s.name)}>
                <img src={s.thumbnailDataUrl} alt="" />
                <span>
                  {s.appIconDataUrl && <img src={s.appIconDataUrl} alt="" className="picker-icon" />}
                  {s.name}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
    );
  return (
    <div className="modal-backdrop">
      <div
        className="modal picker"
        role="dialog"
        aria-modal="true"
        aria-labelledby="picker-title"
        ref={ref}
        onKeyDown={(e) => {
          if (e.key === 'Escape') answer(null);
        }}
      >
        <header className="panel-header">
          <h2 id="picker-title">{t.picker.title}</h2>
        </header>
        <div className="picker-body">
          {group(t.picker.screens, screens)}
          {group(t.picker.windows, windows)}
        </div>
        <footer className="picker-footer">
          {request.audioAvailable ? (
            <label className="check">
              <input type="checkbox" checked={audio} onChange={(e) => setAudio(e.target.checked)} />
              {t.picker.sound}
            </label>
          ) : (
            <span />
          )}
          <button type="button" className="button" onClick={() => answer(null)}>
            {t.app.cancel}
          </button>
        </footer>
      </div>
    </div>
  );
}
