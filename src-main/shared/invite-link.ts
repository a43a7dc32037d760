/**
 * Invite links, shared by the renderer (invite dialog, join form) and the
 * desktop shell (the chorus:// deep link). One format, two spellings:
 *
 *   https://192.168.1.20:8443/join/abc-defg-hij?fp=3A:7F:…   (opens in any browser)
 *   chorus://join?server=https%3A%2F%2F192.168.1.20%3A8443&code=abc-defg-hij&fp=3A:7F:…
 *
 * `fp` is the SHA-256 fingerprint of the server's TLS certificate (colon-separated
 * upper-case hex, as the server prints it). The desktop app pins it; browsers ignore it.
 */

/**
 * The WHATWG URL parser, which Node, Electron and browsers all provide. Typed
 * locally because `src-main/shared` compiles without the Node and DOM libraries.
 */
interface ParsedUrl {
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
  readonly origin: string;
  readonly searchParams: { get(name: string): string | null };
}
const WhatwgUrl = (globalThis as unknown as { URL: new (url: string) => ParsedUrl }).URL;

export const MEETING_CODE_PATTERN = /^[a-z]{3}-[a-z]{4}-[a-z]{3}$/;
export const FINGERPRINT_PATTERN = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;

export interface Invite {
  /** Origin of the Chorus server, e.g. `https://192.168.1.20:8443` (no trailing slash). */
  serverUrl: string;
  meetingCode: string;
  fingerprint?: string;
}

export type InviteParseResult = { ok: true; invite: Invite } | { ok: false; error: string };

export function isMeetingCode(value: string): boolean {
  return MEETING_CODE_PATTERN.test(value);
}

/** Normalises a fingerprint typed or pasted in any case, with or without colons. */
export function normaliseFingerprint(value: string): string | undefined {
  const hex = value.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

function serverOrigin(raw: string): string | undefined {
  let url: ParsedUrl;
  try {
    url = new WhatwgUrl(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.origin;
}

function withFingerprint(base: Omit<Invite, 'fingerprint'>, fp: string | null): InviteParseResult {
  if (fp === null || fp === '') return { ok: true, invite: base };
  const fingerprint = normaliseFingerprint(fp);
  if (!fingerprint) return { ok: false, error: 'The certificate fingerprint in the link is not a SHA-256 fingerprint' };
  return { ok: true, invite: { ...base, fingerprint } };
}

export function formatInviteLink(invite: Invite, kind: 'web' | 'desktop' = 'web'): string {
  const fp = invite.fingerprint ? `fp=${invite.fingerprint}` : '';
  if (kind === 'web') return `${invite.serverUrl}/join/${invite.meetingCode}${fp ? `?${fp}` : ''}`;
  return `chorus://join?server=${encodeURIComponent(invite.serverUrl)}&code=${invite.meetingCode}${fp ? `&${fp}` : ''}`;
}

/** Parses either spelling of an invite link. Never throws. */
export function parseInviteLink(text: string): InviteParseResult {
  const trimmed = text.trim();
  let url: ParsedUrl;
  try {
    url = new WhatwgUrl(trimmed);
  } catch {
    return { ok: false, error: 'Not a link: paste the whole invite link' };
  }
  if (url.protocol === 'chorus:') {
    // `chorus://join?...` parses with host "join" in WHATWG URL; accept `chorus:join?...` too.
    const action = (url.host || url.pathname).replace(/^\/+|\/+$/g, '');
    if (action !== 'join') return { ok: false, error: `Unknown chorus:// action '${action}'` };
    const serverUrl = serverOrigin(url.searchParams.get('server') ?? '');
    if (!serverUrl) return { ok: false, error: 'The link has no valid server address' };
    const meetingCode = url.searchParams.get('code') ?? '';
    if (!isMeetingCode(meetingCode)) return { ok: false, error: 'The link has no valid meeting code' };
    return withFingerprint({ serverUrl, meetingCode }, url.searchParams.get('fp'));
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    const match = /^\/join\/([^/]+)\/?$/.exec(url.pathname);
    if (!match || !isMeetingCode(match[1]!)) return { ok: false, error: 'Not a Chorus invite link (expected …/join/<meeting code>)' };
    return withFingerprint({ serverUrl: url.origin, meetingCode: match[1]! }, url.searchParams.get('fp'));
  }
  return { ok: false, error: `Unsupported link scheme '${url.protocol}'` };
}
