import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ServerInfo } from './app-api-http.js';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    // Bundled into the desktop app the relative path differs; the version is cosmetic here.
    return 'unknown';
  }
}

const VERSION = readVersion();

/** GET /app/api/server: what the join screen and the invite dialog show about this server. */
export function serverInfoFor(options: { name?: string; urls: string[]; fingerprint?: string; webHosting?: boolean }): ServerInfo {
  return {
    name: options.name ?? hostname(),
    version: VERSION,
    webHosting: options.webHosting ?? false,
    ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}),
    urls: [...new Set(options.urls.filter((u) => u !== ''))],
  };
}
