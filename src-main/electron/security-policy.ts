/**
 * The desktop shell's security decisions as plain functions, so they are tested
 * without Electron. main.ts only wires them to Electron's hooks.
 */

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://chorus`;

/** Content Security Policy for the renderer: our own code only, media from anywhere it is streamed, signaling over ws/wss. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' http: https: ws: wss:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const GRANTED_PERMISSIONS = new Set(['media', 'display-capture']);

/** Media and display capture, for our own origin only; everything else is refused. */
export function isPermissionGranted(permission: string, requestingUrl: string | undefined): boolean {
  if (!GRANTED_PERMISSIONS.has(permission) || !requestingUrl) return false;
  return isAppUrl(requestingUrl);
}

/**
 * True for URLs of our own app:// origin. Compared by scheme and host because
 * Node's URL reports origin 'null' for schemes it does not know as special.
 */
export function isAppUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === `${APP_SCHEME}:` && url.host === 'chorus';
  } catch {
    return false;
  }
}

/** The window never navigates: the renderer is a single-page app. */
export function isNavigationAllowed(_targetUrl: string): boolean {
  return false;
}

/** Links meant for a new window open in the system browser when they are http(s), and never inside the app. */
export function externalUrlToOpen(targetUrl: string): string | undefined {
  try {
    const url = new URL(targetUrl);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
};

/**
 * Maps an app:// URL to a file below the renderer's build directory, or undefined
 * when it would escape it. Paths are POSIX-style relative paths; the caller joins them.
 */
export function resolveAppAsset(requestUrl: string): { relativePath: string; mimeType: string } | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'chorus') return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const segments = pathname.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..' || s.includes('\\') || s.includes('\0'))) return undefined;
  const relativePath = segments.length === 0 ? 'index.html' : segments.join('/');
  const ext = relativePath.slice(relativePath.lastIndexOf('.')).toLowerCase();
  return { relativePath, mimeType: MIME_TYPES[ext] ?? 'application/octet-stream' };
}
