import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { ChorusError } from '../errors.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the DER certificate, colon-separated upper-case hex, as browsers show it. */
  fingerprint256: string;
  source: 'generated' | 'data-dir' | 'files';
}

export const TLS_CERT_FILE = 'tls-cert.pem';
export const TLS_KEY_FILE = 'tls-key.pem';

export function fingerprintOf(certPem: string): string {
  try {
    return new X509Certificate(certPem).fingerprint256;
  } catch (error) {
    throw new ChorusError('CONFIG_INVALID', 'TLS certificate is not a valid PEM X.509 certificate', { cause: error });
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * A real certificate from `--tls-cert/--tls-key`, or the server's own self-signed
 * one: generated once, kept in the data directory, and reused so its fingerprint
 * (which invite links pin) stays stable across restarts.
 */
export async function loadTlsMaterial(options: {
  dataDir: string;
  certFile?: string;
  keyFile?: string;
  hostnames: string[];
}): Promise<TlsMaterial> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) {
      throw new ChorusError('CONFIG_INVALID', '--tls-cert and --tls-key must be given together');
    }
    const [cert, key] = await Promise.all([readFile(options.certFile, 'utf8'), readFile(options.keyFile, 'utf8')]);
    return { cert, key, fingerprint256: fingerprintOf(cert), source: 'files' };
  }

  const certPath = join(options.dataDir, TLS_CERT_FILE);
  const keyPath = join(options.dataDir, TLS_KEY_FILE);
  const [existingCert, existingKey] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (existingCert && existingKey) {
    return { cert: existingCert, key: existingKey, fingerprint256: fingerprintOf(existingCert), source: 'data-dir' };
  }

  const names = [...new Set(['localhost', '127.0.0.1', ...options.hostnames])];
  const now = new Date();
  const generated = await generate([{ name: 'commonName', value: 'Chorus meeting server' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 24 * 3600 * 1000),
    notAfterDate: new Date(now.getTime() + 5 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((name) => (isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name })),
      },
    ],
  });
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, generated.private, { mode: 0o600 });
  await writeFile(certPath, generated.cert, { mode: 0o644 });
  return { cert: generated.cert, key: generated.private, fingerprint256: fingerprintOf(generated.cert), source: 'generated' };
}
