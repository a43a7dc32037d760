import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src-main/server/cli-args.js';
import { descriptorLimit, KeyedCounter, resolveConnectionLimits } from '../../src-main/server/http/connection-limits.js';
import { originAllowed, type OriginPolicy } from '../../src-main/server/http/websocket-admission.js';

const LIMITS_256 = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            256                  256                  files
`;

describe('connection limits', () => {
  it('keep the total cap below the descriptor limit, and one address to half of it', () => {
    expect(descriptorLimit(() => LIMITS_256)).toBe(256);
    expect(descriptorLimit(() => LIMITS_256.replace('256                  256', 'unlimited            unlimited'))).toBeUndefined();
    expect(descriptorLimit(() => {
      throw new Error('no /proc here');
    })).toBeUndefined();
    expect(resolveConnectionLimits({}, 256)).toMatchObject({ maxConnections: 128, maxConnectionsPerAddress: 64 });
    expect(resolveConnectionLimits({}, 1_048_576)).toMatchObject({ maxConnections: 4096, maxConnectionsPerAddress: 512 });
    expect(resolveConnectionLimits({}, undefined)).toMatchObject({ maxConnections: 4096 });
    // A cap set alone takes its per-address share along; a share set explicitly stays.
    expect(resolveConnectionLimits({ maxConnections: 100 }, 256)).toMatchObject({ maxConnections: 100, maxConnectionsPerAddress: 50 });
    expect(resolveConnectionLimits({ maxConnections: 100, maxConnectionsPerAddress: 7 }, 256)).toMatchObject({ maxConnectionsPerAddress: 7 });
  });

  it('counts per key and refuses past the share, giving places back on release', () => {
    const counter = new KeyedCounter(2);
    expect([counter.tryAcquire('a'), counter.tryAcquire('a'), counter.tryAcquire('a'), counter.tryAcquire('b')]).toEqual([true, true, false, true]);
    counter.release('a');
    expect(counter.tryAcquire('a')).toBe(true);
    counter.release('b');
    counter.release('b');
    expect(counter.count('b')).toBe(0);
  });

  it('are set from the command line, each checked', () => {
    const { config } = parseCliArgs([
      '--header-timeout', '5', '--request-timeout', '20', '--idle-timeout', '90', '--join-timeout', '3',
      '--max-connections', '300', '--max-connections-per-address', '40', '--max-sockets-per-token', '2',
      '--allowed-origin', 'https://portal.example.com', '--allowed-origin', 'http://10.0.0.5:3000',
    ], {});
    expect(config.limits).toEqual({
      headersTimeoutMs: 5000, tlsHandshakeTimeoutMs: 5000, requestTimeoutMs: 20_000, idleTimeoutMs: 90_000, joinTimeoutMs: 3000,
      maxConnections: 300, maxConnectionsPerAddress: 40, maxSocketsPerToken: 2,
      allowedOrigins: ['https://portal.example.com', 'http://10.0.0.5:3000'],
    });
    expect(parseCliArgs([], {}).config.limits).toBeUndefined();
    expect(() => parseCliArgs(['--max-connections', '0'], {})).toThrow(/--max-connections must be an integer from 1/);
    expect(() => parseCliArgs(['--join-timeout', 'soon'], {})).toThrow(/--join-timeout must be an integer/);
    for (const bad of ['portal.example.com', 'https://portal.example.com/path', 'ftp://x.example', '*']) {
      expect(() => parseCliArgs(['--allowed-origin', bad], {}), bad).toThrow(/is not an origin/);
    }
  });
});

describe('WebSocket origin policy', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const policy: OriginPolicy = { tls: true, publicOrigin: () => 'https://chorus.lan:8443', allowedOrigins: ['https://Portal.Example.com'] };

  it('admits the same origin, the public URL, the desktop app, pages on the browser\'s machine, the allowlist and clients without Origin; refuses the rest', () => {
    const host = { host: '192.168.1.20:8443' };
    expect(originAllowed(request({ ...host }), policy)).toBe(true);
    expect(originAllowed(request({ ...host, origin: 'https://192.168.1.20:8443' }), policy)).toBe(true);
    expect(originAllowed(request({ ...host, origin: 'https://chorus.lan:8443' }), policy)).toBe(true);
    expect(originAllowed(request({ ...host, origin: 'app://chorus' }), policy)).toBe(true);
    expect(originAllowed(request({ ...host, origin: 'https://portal.example.com' }), policy)).toBe(true);
    for (const origin of ['http://localhost:3000', 'http://app.localhost:5173', 'http://127.0.0.1:41234', 'https://127.1.2.3', 'http://[::1]:8080']) {
      expect(originAllowed(request({ ...host, origin }), policy), origin).toBe(true);
    }
    // Same host, wrong scheme or port; look-alikes; opaque and malformed origins.
    for (const origin of [
      'http://192.168.1.20:8443', 'https://192.168.1.20:9443', 'https://portal.example.com.evil.test', 'http://127.0.0.1.evil.test',
      'http://localhost.evil.test', 'null', 'app://chorus.evil', 'not a url',
    ]) {
      expect(originAllowed(request({ ...host, origin }), policy), origin).toBe(false);
    }
  });
});
