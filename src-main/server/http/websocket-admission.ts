import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { DESKTOP_ORIGIN } from '../app-api/app-api-http.js';

/**
 * Which browser pages may open a signaling WebSocket. A browser sends `Origin` with
 * every WebSocket handshake, so without this check any web page a participant visits
 * could open sockets to the server on their behalf. Non-browser clients (the SDK in
 * Node, native clients) send no Origin and are let through; their join token is
 * their credential. Pages served from the browser's own machine (a loopback origin,
 * such as an app under development at http://localhost:3000) are let through too:
 * only software on that machine can serve them, and it could connect without a
 * browser anyway. A remote page cannot pose as one: DNS rebinding changes where a
 * name points, never the name in its Origin.
 */
export interface OriginPolicy {
  /** Whether the server speaks TLS: a same-origin page is https:// then. */
  tls: boolean;
  /** The origin of the URL advertised to clients (`--public-url`), also the server's own. */
  publicOrigin?: () => string | undefined;
  /** Further allowed origins (`--allowed-origin`). */
  allowedOrigins: readonly string[];
}

/** `scheme://host[:port]` in lower case, or undefined for anything that is not an http(s) or app origin. */
export function normalizeOrigin(origin: string): string | undefined {
  if (origin === DESKTOP_ORIGIN) return origin;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/** localhost, *.localhost, 127.0.0.0/8 or [::1] as an origin's host; names that merely start with "127." are not. */
function isLoopbackOrigin(origin: string): boolean {
  if (origin === DESKTOP_ORIGIN) return false;
  const host = new URL(origin).hostname;
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export function originAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const header = req.headers.origin;
  if (header === undefined) return true;
  const origin = normalizeOrigin(header);
  // "null" (sandboxed frames, file: pages) and anything unparsable are refused.
  if (!origin) return false;
  if (origin === DESKTOP_ORIGIN || isLoopbackOrigin(origin)) return true;
  const host = req.headers.host?.toLowerCase();
  if (host && origin === `${policy.tls ? 'https' : 'http'}://${host}`) return true;
  const own = policy.publicOrigin?.();
  if (own && origin === normalizeOrigin(own)) return true;
  return policy.allowedOrigins.some((allowed) => normalizeOrigin(allowed) === origin);
}
