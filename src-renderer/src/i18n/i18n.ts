import { de } from './de';
import { en, type Messages } from './en';

/**
 * The message catalog the UI uses: the system's language when we have it
 * (navigator.languages, in the user's order of preference), else English.
 * Chosen once at start-up, as the system setting is.
 */
export const CATALOGS = { en, de } satisfies Record<string, Messages>;
export type Language = keyof typeof CATALOGS;

export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base && base in CATALOGS) return base as Language;
  }
  return 'en';
}

function systemLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

export const language: Language = pickLanguage(systemLanguages());
/** The strings of the chosen language. */
export const t: Messages = CATALOGS[language];

/** Dates and times in the chosen language. */
export const timeFormat = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit' });
export const dateTimeFormat = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
