import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** Non-internal IPv4 addresses of this machine, in interface order. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) out.push(info.address);
    }
  }
  return out;
}

export function formatHostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The base URL clients should use. An explicit `--public-url` wins; a wildcard
 * bind is advertised on the first LAN address (or loopback when there is none).
 */
export function derivePublicBaseUrl(options: { host: string; port: number; tls: boolean; publicUrl?: string }): string {
  if (options.publicUrl) return options.publicUrl.replace(/\/+$/, '');
  const host = isWildcardHost(options.host) ? (lanAddresses()[0] ?? '127.0.0.1') : options.host;
  return `${options.tls ? 'https' : 'http'}://${formatHostForUrl(host)}:${options.port}`;
}
