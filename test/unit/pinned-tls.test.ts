import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pinCertificate } from '../../src-main/client/pinned-tls.js';

let cert = '';
let key = '';
let fingerprint = '';
const servers: Server[] = [];

beforeAll(async () => {
  const made = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
  ({ cert, private: key } = made);
  fingerprint = new X509Certificate(cert).fingerprint256;
});

async function serve(host: string): Promise<number> {
  const server = createServer({ cert, key }, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('pinning a server certificate from an invite link', () => {
  it('pins over an IPv4 address without sending the address as a TLS server name (RFC 6066; Node warns DEP0123)', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    const port = await serve('127.0.0.1');
    const pinned = await pinCertificate(`https://127.0.0.1:${port}`, fingerprint);
    expect(pinned.ca).toContain('BEGIN CERTIFICATE');
    expect(warn.mock.calls.map((c) => String(c[0]))).not.toContainEqual(expect.stringContaining('TLS ServerName'));
  });

  it('pins over an IPv6 address, which a URL writes in brackets', async () => {
    const port = await serve('::1');
    const pinned = await pinCertificate(`https://[::1]:${port}`, fingerprint);
    expect(pinned.checkServerIdentity('::1', new X509Certificate(cert).toLegacyObject())).toBeUndefined();
  });

  it('refuses a server whose certificate is not the one in the link', async () => {
    const port = await serve('127.0.0.1');
    await expect(pinCertificate(`https://127.0.0.1:${port}`, 'AA:BB')).rejects.toThrow(/not AA:BB/);
  });
});
