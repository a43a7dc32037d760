import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, verifySigV4, type SignedRequest } from '../../src-main/server/auth/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

/** Signs with the AWS SDK's own signer and converts the result into what the server sees. */
async function sign(options: { method?: string; path?: string; query?: Record<string, string | string[]>; body?: string; at?: number } = {}): Promise<SignedRequest> {
  const body = options.body ?? '';
  const request = new HttpRequest({
    protocol: 'https:', hostname: 'chorus.local', port: 8443,
    method: options.method ?? 'POST',
    path: options.path ?? '/meetings',
    query: options.query ?? {},
    headers: { host: 'chorus.local:8443', 'content-type': 'application/json' },
    body,
  });
  const signer = new SignatureV4({ credentials, region: 'eu-central-1', service: 'chime', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(request, { signingDate: new Date(options.at ?? NOW) });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) for (const item of [v].flat()) search.append(k, item);
  const qs = search.toString().replace(/\+/g, '%20');
  return { method: signed.method, url: signed.path + (qs ? `?${qs}` : ''), headers, body: Buffer.from(body) };
}

describe('verifySigV4 against the AWS SDK signer', () => {
  it('accepts what the SDK signs, and reports the region', async () => {
    const result = verifySigV4(await sign({ body: '{"MediaRegion":"us-east-1"}' }), credentials, NOW);
    expect(result).toEqual({ accessKeyId: 'AKIDEXAMPLE', region: 'eu-central-1' });
  });

  it('handles query strings with several keys, odd characters and repeated values', async () => {
    const req = await sign({ method: 'GET', path: '/meetings/abc/attendees', query: { 'next-token': 'a b/c+d=', 'max-results': '5', z: ['2', '1'] } });
    expect(() => verifySigV4(req, credentials, NOW)).not.toThrow();
  });

  it.each([
    ['the method', (r: SignedRequest) => ({ ...r, method: 'PUT' })],
    ['the path', (r: SignedRequest) => ({ ...r, url: '/meetings/other' })],
    ['the query', (r: SignedRequest) => ({ ...r, url: r.url + '?operation=create-attendees' })],
    ['the body', (r: SignedRequest) => ({ ...r, body: Buffer.from('{"MediaRegion":"us-west-2"}') })],
    ['a signed header', (r: SignedRequest) => ({ ...r, headers: { ...r.headers, 'content-type': 'text/plain' } })],
    ['the host', (r: SignedRequest) => ({ ...r, headers: { ...r.headers, host: 'evil.example:8443' } })],
  ])('rejects a request whose %s changed after signing', async (_what, mutate) => {
    const req = mutate(await sign({ body: '{"MediaRegion":"us-east-1"}' }));
    expect(() => verifySigV4(req, credentials, NOW)).toThrow(/signature does not match|does not match the request body/);
  });

  it('rejects dates outside the allowed skew, in both directions, and accepts them inside it', async () => {
    const req = await sign();
    expect(() => verifySigV4(req, credentials, NOW + MAX_CLOCK_SKEW_MS - 1000)).not.toThrow();
    expect(() => verifySigV4(req, credentials, NOW + MAX_CLOCK_SKEW_MS + 1000)).toThrow(/Signature expired/);
    expect(() => verifySigV4(req, credentials, NOW - MAX_CLOCK_SKEW_MS - 1000)).toThrow(/Signature expired/);
  });

  it('rejects a wrong secret, a wrong key id, and malformed Authorization headers', async () => {
    const req = await sign();
    expect(() => verifySigV4(req, { ...credentials, secretAccessKey: 'nope' }, NOW)).toThrow(/signature does not match/);
    expect(() => verifySigV4(req, { ...credentials, accessKeyId: 'OTHER' }, NOW)).toThrow(/not recognized/);
    const auth = req.headers.authorization as string;
    const broken = [
      'Basic dXNlcjpwYXNz',
      'AWS4-HMAC-SHA256 garbage',
      auth.replace(/Signature=[0-9a-f]+/, 'Signature=zz'),
      auth.replace('/aws4_request', '/aws3_request'),
      auth.replace('SignedHeaders=', 'SignedHeaders=x-missing;'),
    ];
    for (const authorization of broken) {
      expect(() => verifySigV4({ ...req, headers: { ...req.headers, authorization } }, credentials, NOW)).toThrow();
    }
    const noDate = { ...req.headers };
    delete noDate['x-amz-date'];
    expect(() => verifySigV4({ ...req, headers: noDate }, credentials, NOW)).toThrow(/x-amz-date/);
  });

  it('every failure is a ForbiddenException (403)', async () => {
    const req = await sign();
    try {
      verifySigV4(req, { ...credentials, secretAccessKey: 'nope' }, NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: 'ForbiddenException', status: 403, code: 'Forbidden' });
    }
  });
});
