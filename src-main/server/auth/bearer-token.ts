import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiCredentials } from './sigv4.js';

/**
 * A bearer token derived from the API key pair, for clients that cannot sign
 * SigV4 (an EventSource in the desktop app, the host's own renderer). It is an
 * HMAC of the access key id under the secret key, so it needs no storage, it
 * changes when the credentials rotate, and it never reveals the secret.
 */
const BEARER_PREFIX = 'chorus1.';

export function deriveBearerToken(credentials: ApiCredentials): string {
  const mac = createHmac('sha256', credentials.secretAccessKey).update(`chorus-bearer-v1:${credentials.accessKeyId}`).digest('base64url');
  return BEARER_PREFIX + mac;
}

export type BearerCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'wrong-token' };

/** Checks `Authorization: Bearer <token>` in constant time. */
export function verifyBearerToken(headers: IncomingHttpHeaders, credentials: ApiCredentials): BearerCheck {
  const header = headers.authorization;
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (!match) return { ok: false, reason: 'malformed' };
  const presented = Buffer.from(match[1]!);
  const expected = Buffer.from(deriveBearerToken(credentials));
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: 'wrong-token' };
  return { ok: true };
}
