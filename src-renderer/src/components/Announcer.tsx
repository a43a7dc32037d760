import { useAnnouncerStore } from '../state/announcer-store';

/**
 * Screen-reader announcements: two visually hidden live regions, always in the
 * page (a region added together with its text is often not read). The key makes
 * React replace the text node, so a repeated sentence is read again.
 */
export function Announcer() {
  const polite = useAnnouncerStore((s) => s.polite);
  const assertive = useAnnouncerStore((s) => s.assertive);
  return (
    <div className="visually-hidden">
      <div role="status" aria-live="polite" aria-atomic="true" data-testid="announce-polite">
        {polite && <span key={polite.id}>{polite.text}</span>}
      </div>
      <div role="alert" aria-live="assertive" aria-atomic="true" data-testid="announce-assertive">
        {assertive && <span key={assertive.id}>{assertive.text}</span>}
      </div>
    </div>
  );
}
