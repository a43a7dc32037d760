import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { sendChat } from '../meeting/meeting-controller';
import { MAX_DATA_MESSAGE_BYTES } from '../meeting/messages';
import { useChatStore } from '../state/chat-store';
import { t, timeFormat } from '../i18n/i18n';
import { Icon } from './Icon';


export function ChatPanel({ onClose }: { onClose: () => void }) {
  const messages = useChatStore((s) => s.messages);
  const setOpen = useChatStore((s) => s.setOpen);
  const [draft, setDraft] = useState('');
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    setOpen(true);
    return () => setOpen(false);
  }, [setOpen]);
  useEffect(() => {
    listRef.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  const submit = (event?: FormEvent): void => {
    event?.preventDefault();
    if (!draft.trim()) return;
    sendChat(draft);
    setDraft('');
  };
  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  };
  const bytes = new TextEncoder().encode(draft).length;

  return (
    <aside className="side-panel" aria-labelledby="chat-title" data-testid="chat-panel">
      <header className="panel-header">
        <h2 id="chat-title">{t.chat.title}</h2>
        <button type="button" className="icon-button" aria-label={t.chat.close} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <ol className="chat-list" ref={listRef} aria-live="polite" aria-label={t.chat.messages}>
        {messages.length === 0 && <li className="muted small chat-empty">{t.chat.empty}</li>}
        {messages.map((m) => (
          <li key={m.id} className={`chat-message ${m.self ? 'self' : ''} ${m.status}`} data-testid="chat-message" data-status={m.status}>
            <div className="chat-meta">
              <span className="chat-sender">{m.self ? t.chat.you : m.senderName}</span>
              <time dateTime={new Date(m.timestampMs).toISOString()}>{timeFormat.format(m.timestampMs)}</time>
            </div>
            <p className="chat-text">{m.text}</p>
            {m.status === 'failed' && (
              <p className="chat-failed" role="alert">
                {t.chat.notSent(m.failure ?? t.chat.failed)}
              </p>
            )}
          </li>
        ))}
      </ol>
      <form className="chat-form" onSubmit={submit}>
        <textarea value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onKey} rows={2} placeholder={t.chat.placeholder} aria-label={t.chat.inputLabel} data-testid="chat-input" />
        <div className="chat-actions">
          <span className={`small ${bytes > MAX_DATA_MESSAGE_BYTES - 64 ? 'error' : 'muted'}`}>{bytes > 1500 ? `${bytes}/${MAX_DATA_MESSAGE_BYTES - 40}` : ''}</span>
          <button type="submit" className="button primary small" disabled={!draft.trim()} data-testid="chat-send">
            {t.chat.send}
          </button>
        </div>
      </form>
    </aside>
  );
}
