import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ServerInfo } from '../../shared/app-api.js';

/**
 * Our package.json sits three levels up from this source file, and two levels
 * up from the desktop app's bundle (dist/electron/server-host.js, also inside
 * app.asar). Only a package.json named "chorus" counts.
 */
const PACKAGE_JSON_CANDIDATES = ['../../../package.json', '../../package.json'];

function readVersion(): string {
  for (const candidate of PACKAGE_JSON_CANDIDATES) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'chorus' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not at this location: try the next.
    }
  }
  return 'unknown';
}

const VERSION = readVersion();

/** GET /app/api/server: what the join screen and the invite dialog show about this server. */
export function serverInfoFor(options: { name?: string; urls: string[]; fingerprint?: string; webHosting?: boolean; listed?: boolean }): ServerInfo {
  return {
    name: options.name ?? hostname(),
    version: VERSION,
    webHosting: options.webHosting ?? false,
    listed: options.listed ?? true,
    ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}),
    urls: [...new Set(options.urls.filter((u) => u !== ''))],
  };
}
