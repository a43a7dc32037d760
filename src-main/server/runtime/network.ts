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

/** Why binding `host:port` failed, in words that say what to do next. */
export function describeListenError(host: string, port: number, error: Error & { code?: string }): string {
  const where = `${formatHostForUrl(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${where}: the port is already in use (another Chorus server, or another program). `
        + `Pick another port with --port, e.g. \`npm run server -- --port ${port === 65535 ? 8081 : port + 1}\`, or --port 0 for any free port.`;
    case 'EACCES':
      return `Cannot listen on ${where}: permission denied (ports below 1024 need administrator rights). Use a port of 1024 or above with --port, e.g. --port 8443.`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${where}: ${host} is not an address of this machine. Use --host 127.0.0.1, --host 0.0.0.0 (every interface), or one of: ${lanAddresses().join(', ') || 'no LAN address found'}.`;
    default:
      return `Cannot listen on ${where}: ${error.message}`;
  }
}
