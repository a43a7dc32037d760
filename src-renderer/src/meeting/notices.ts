import type { LiveState } from '../../../src-main/shared/app-api.js';
import { t } from '../i18n/i18n';
import { playNotifySound, type NotifyKind } from '../lib/notify-sound';
import { loadPrefs } from '../lib/prefs';
import { announce } from '../state/announcer-store';
import { useUiStore } from '../state/ui-store';

/**
 * What people are told as the meeting changes: a notice on screen, the same words
 * for screen readers, and (if they turned it on) a tone. Joins and leaves are shown
 * as notices only in meetings small enough for them to be news.
 */

const TOAST_JOINS_UP_TO = 20;

function sound(kind: NotifyKind): void {
  if (loadPrefs().notifySound) playNotifySound(kind);
}

export function noticePresence(name: string, joined: boolean, peopleNow: number): void {
  // A notice is read out as it appears; without one, the screen reader is still told.
  if (peopleNow <= TOAST_JOINS_UP_TO) useUiStore.getState().toast(joined ? t.meeting.joined(name) : t.meeting.left(name));
  else announce(joined ? t.announce.joined(name) : t.announce.left(name));
  sound(joined ? 'join' : 'leave');
}

export function noticeReconnecting(name: string): void {
  announce(t.notices.reconnecting(name));
}

/** Compares two live states and says what changed that matters to this person. */
export function noticeLiveChanges(prev: LiveState | undefined, next: LiveState, selfId: string, loweredOwnHand: boolean): void {
  const toast = useUiStore.getState().toast;
  if (!prev) return;
  const before = new Set(prev.hands.map((h) => h.attendeeId));
  next.hands.forEach((hand, i) => {
    if (before.has(hand.attendeeId)) return;
    // The position in the queue is what a screen-reader user cannot glance at.
    announce(t.announce.handRaised(hand.attendeeId === selfId ? t.chat.you : hand.name, i + 1));
    if (hand.attendeeId !== selfId) {
      toast(t.notices.handRaised(hand.name), 'info', true);
      sound('hand');
    }
  });
  const after = new Set(next.hands.map((h) => h.attendeeId));
  for (const hand of prev.hands) {
    if (after.has(hand.attendeeId)) continue;
    announce(t.announce.handLowered(hand.attendeeId === selfId ? t.chat.you : hand.name));
    if (hand.attendeeId === selfId && !loweredOwnHand) toast(t.notices.yourHandLowered);
  }
  if (!prev.self.audioLocked && next.self.audioLocked) announce(t.notices.mutedLocked, 'assertive');
  if (prev.self.audioLocked && !next.self.audioLocked) toast(t.notices.allowedToUnmute);
  if (prev.self.role !== next.self.role) toast(next.self.role === 'guest' ? t.notices.youAreGuest : t.notices.youAreCohost);
  const waiting = new Set(prev.waiting.map((w) => w.id));
  for (const guest of next.waiting) {
    if (waiting.has(guest.id)) continue;
    toast(t.notices.waitingGuest(guest.name));
    sound('lobby');
  }
  const asking = new Set(prev.unmuteRequests.map((r) => r.attendeeId));
  for (const request of next.unmuteRequests) {
    if (!asking.has(request.attendeeId)) toast(t.notices.wantsToUnmute(request.name));
  }
}
