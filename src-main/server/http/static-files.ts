import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

/**
 * Serves the built renderer (dist/renderer) to browsers: the same app the
 * desktop shell loads, so a LAN guest can join without installing anything.
 * Paths are resolved under the root only; `/join/<code>` falls back to index.html
 * so invite links open the app, and every response carries a strict CSP.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * Scripts and styles from this origin only (no inline script, no eval); media from
 * the camera/microphone and blobs; signaling WebSockets to this server.
 * 'wasm-unsafe-eval' lets WebAssembly compile (the Chime SDK checks for it on join
 * and runs voice focus and background filters in it) without allowing JS eval.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=(self), geolocation=()',
};

/** Paths the single-page app handles itself: the invite link target. */
const SPA_ROUTE = /^\/join\/[A-Za-z0-9-]{1,64}\/?$/;

export type StaticTarget = { kind: 'file'; path: string; spa: boolean } | { kind: 'refused' };

/**
 * Maps a request path to a file under `root`, or refuses it. Pure apart from
 * path arithmetic: encoded dots and slashes, backslashes and NULs never reach the disk.
 */
export function resolveStaticPath(root: string, rawPathname: string): StaticTarget {
  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPathname);
  } catch {
    return { kind: 'refused' };
  }
  if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\')) return { kind: 'refused' };
  const segments = pathname.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.' || (s.startsWith('.') && s.length > 0))) return { kind: 'refused' };
  const base = resolve(root);
  if (pathname === '/' || pathname === '/index.html') return { kind: 'file', path: resolve(base, 'index.html'), spa: false };
  if (SPA_ROUTE.test(pathname)) return { kind: 'file', path: resolve(base, 'index.html'), spa: true };
  const target = resolve(base, ...segments);
  if (!target.startsWith(base + sep)) return { kind: 'refused' };
  return { kind: 'file', path: target, spa: false };
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export interface StaticFilesOptions {
  root: string;
}

/** Serves GET/HEAD for the renderer. Resolves once the response is under way; never throws. */
export async function serveStaticFile(req: IncomingMessage, res: ServerResponse, options: StaticFilesOptions): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    sendText(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  const target = resolveStaticPath(options.root, rawPath);
  if (target.kind === 'refused') {
    sendText(res, 400, 'Bad path\n');
    return;
  }
  let size: number;
  try {
    const info = await stat(target.path);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch {
    if (target.path.endsWith(`${sep}index.html`)) {
      sendText(res, 503, 'The meeting app is not built on this server; run `npm run build:renderer`.\n');
    } else {
      sendText(res, 404, 'Not found\n');
    }
    return;
  }
  const ext = extname(target.path).toLowerCase();
  // Vite names built assets by content hash, so they never change; index.html must always be revalidated.
  const immutable = rawPath.startsWith('/assets/');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(target.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
