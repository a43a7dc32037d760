/**
 * Attendee naming. The app API makes ExternalUserId `<6 random chars>#<display name>`
 * so that two people with the same name stay two attendees; anything else (an
 * attendee created through the Chime API directly) is shown as it is.
 */
import { t } from '../i18n/i18n';

export const CONTENT_SUFFIX = '#content';

export function displayNameOf(externalUserId: string | undefined | null, fallback = t.meeting.guest): string {
  if (!externalUserId) return fallback;
  const match = /^[A-Za-z0-9_-]{6}#(.+)$/s.exec(externalUserId);
  return match ? match[1]! : externalUserId;
}

export function isContentAttendee(attendeeId: string): boolean {
  return attendeeId.endsWith(CONTENT_SUFFIX);
}

export function baseAttendeeId(attendeeId: string): string {
  return isContentAttendee(attendeeId) ? attendeeId.slice(0, -CONTENT_SUFFIX.length) : attendeeId;
}

export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length >= 2 ? [words[0]!, words[words.length - 1]!].map((w) => [...w][0]) : [...(words[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase();
}
