import { useEffect, useRef } from 'react';
import { t } from '../i18n/i18n';

/** A question that needs an answer before something irreversible happens; Escape or Cancel says no. */
export function ConfirmDialog({ title, body, confirmLabel, danger = false, onConfirm, onCancel }: { title: string; body: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    // Focus starts on Cancel: a stray Enter must not remove anyone.
    ref.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      previous?.focus();
    };
  }, [onCancel]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div className="modal confirm" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-body" ref={ref} data-testid="confirm-dialog">
        <h2 id="confirm-title">{title}</h2>
        <p id="confirm-body">{body}</p>
        <div className="row end">
          <button type="button" className="button" onClick={onCancel} data-autofocus data-testid="confirm-cancel">
            {t.app.cancel}
          </button>
          <button type="button" className={`button ${danger ? 'danger-solid' : 'primary'}`} onClick={onConfirm} data-testid="confirm-ok">
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
