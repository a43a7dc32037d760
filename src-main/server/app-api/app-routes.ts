import { APP_API_PREFIX } from '../../shared/app-api.js';

/** Every app API route, as a tagged union; `matchAppRoute` turns a method and path into one. */
export type AppRoute =
  | { kind: 'server' }
  | { kind: 'list' }
  | { kind: 'create' }
  | { kind: 'describe'; code: string }
  | { kind: 'join'; code: string }
  | { kind: 'end'; code: string }
  | { kind: 'remove'; code: string; attendeeId: string }
  | { kind: 'mute'; code: string; attendeeId: string }
  | { kind: 'lobby-wait'; code: string }
  | { kind: 'lobby-leave'; code: string }
  | { kind: 'live'; code: string }
  | { kind: 'action'; code: string };

export type AppRouteMatch = { kind: 'route'; route: AppRoute } | { kind: 'not-found' } | { kind: 'method-not-allowed'; allowed: string[] };

const SEGMENT = /^[A-Za-z0-9._~-]{1,128}$/;

/** `:name` segments capture; the rest must match literally. Per path, the methods it answers. */
const TABLE: { pattern: string[]; methods: Record<string, (p: Record<string, string>) => AppRoute> }[] = [
  { pattern: ['server'], methods: { GET: () => ({ kind: 'server' }) } },
  { pattern: ['meetings'], methods: { GET: () => ({ kind: 'list' }), POST: () => ({ kind: 'create' }) } },
  { pattern: ['meetings', ':code'], methods: { GET: (p) => ({ kind: 'describe', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'join'], methods: { POST: (p) => ({ kind: 'join', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'end'], methods: { POST: (p) => ({ kind: 'end', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'live'], methods: { POST: (p) => ({ kind: 'live', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'actions'], methods: { POST: (p) => ({ kind: 'action', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'lobby', 'wait'], methods: { POST: (p) => ({ kind: 'lobby-wait', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'lobby', 'leave'], methods: { POST: (p) => ({ kind: 'lobby-leave', code: p.code! }) } },
  { pattern: ['meetings', ':code', 'attendees', ':attendeeId', 'remove'], methods: { POST: (p) => ({ kind: 'remove', code: p.code!, attendeeId: p.attendeeId! }) } },
  { pattern: ['meetings', ':code', 'attendees', ':attendeeId', 'mute'], methods: { POST: (p) => ({ kind: 'mute', code: p.code!, attendeeId: p.attendeeId! }) } },
];

export function matchAppRoute(method: string, pathname: string): AppRouteMatch {
  const rest = pathname.slice(APP_API_PREFIX.length).replace(/\/+$/, '');
  const parts = rest === '' ? [] : rest.split('/');
  if (parts.some((p) => !SEGMENT.test(p))) return { kind: 'not-found' };
  for (const { pattern, methods } of TABLE) {
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = parts[i]!;
        return true;
      }
      return segment === parts[i];
    });
    if (!matches) continue;
    const make = methods[method];
    return make ? { kind: 'route', route: make(params) } : { kind: 'method-not-allowed', allowed: Object.keys(methods) };
  }
  return { kind: 'not-found' };
}
