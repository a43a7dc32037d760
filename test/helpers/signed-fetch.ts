import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_CREDENTIALS } from './server.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

/**
 * Sends a raw request signed exactly as the AWS SDK signs it, with knobs the SDK
 * does not expose: a body it would never send, a stale signing date, tampering after signing.
 */
export async function signedFetch(
  baseUrl: string,
  options: {
    method: string;
    path: string;
    query?: Record<string, string>;
    body?: string | Buffer;
    credentials?: { accessKeyId: string; secretAccessKey: string };
    signingDate?: Date;
    service?: string;
    tamper?: (request: { body: string | Buffer; headers: Record<string, string> }) => void;
  },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body = options.body ?? '';
  const request = new HttpRequest({
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    method: options.method,
    path: options.path,
    query: options.query ?? {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const signer = new SignatureV4({
    credentials: options.credentials ?? TEST_CREDENTIALS,
    region: 'us-east-1',
    service: options.service ?? 'chime',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(request, { signingDate: options.signingDate ?? new Date() });
  const headers = { ...(signed.headers as Record<string, string>) };
  const mutable = { body: signed.body as string | Buffer, headers };
  options.tamper?.(mutable);
  delete mutable.headers.host;
  const qs = new URLSearchParams(options.query ?? {}).toString();
  const response = await fetch(`${baseUrl}${options.path}${qs ? '?' + qs : ''}`, {
    method: options.method,
    headers: mutable.headers,
    body: options.method === 'GET' || options.method === 'DELETE' ? undefined : mutable.body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}
