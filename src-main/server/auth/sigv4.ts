import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { forbidden } from '../errors.js';

/**
 * Verifies AWS Signature Version 4 (header form) the way the AWS SDKs produce it
 * for the Chime SDK Meetings service (signing name `chime`). Every failure is a
 * ForbiddenException with a message that says which check failed, and nothing
 * about the expected signature.
 */

export interface ApiCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received, e.g. `/meetings/abc?operation=create-attendees`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const SIGNING_SERVICE = 'chime';
/** How far a request's x-amz-date may be from the server clock, as AWS allows. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface VerifiedSignature {
  accessKeyId: string;
  region: string;
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): ParsedAuthorization {
  if (!value.startsWith(ALGORITHM + ' ')) {
    throw forbidden(`Authorization header must use ${ALGORITHM}`);
  }
  const parts = new Map<string, string>();
  for (const piece of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) throw forbidden('Authorization header is malformed');
    parts.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw forbidden('Authorization header must carry Credential, SignedHeaders and Signature');
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw forbidden('Credential scope is malformed');
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  if (!/^[0-9a-f]{64}$/.test(signature)) throw forbidden('Signature is malformed');
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** RFC 3986 escaping as the AWS signer applies it (encodeURIComponent plus !'()*). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw forbidden('Request URL contains malformed percent-encoding');
  }
}

/** Canonical URI for non-S3 services: dot segments removed, then every segment escaped once more. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = rawPath.length > 1 && rawPath.endsWith('/') ? '/' : '';
  const joined = '/' + segments.join('/') + (segments.length > 0 ? trailing : '');
  return escapeUri(joined).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = safeDecode(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(piece.slice(eq + 1));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    pairs.push([escapeUri(key), escapeUri(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

/** Parses the basic ISO 8601 form the signer uses, `YYYYMMDDTHHMMSSZ`. */
function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}

export function verifySigV4(request: SignedRequest, credentials: ApiCredentials, now: number = Date.now()): VerifiedSignature {
  const authorization = headerValue(request.headers, 'authorization');
  if (!authorization) {
    throw forbidden('Missing Authorization header: requests must be signed with AWS Signature Version 4');
  }
  const auth = parseAuthorization(authorization);
  if (auth.service !== SIGNING_SERVICE) {
    throw forbidden(`Credential scope names service '${auth.service}'; this API signs as '${SIGNING_SERVICE}'`);
  }
  if (auth.accessKeyId !== credentials.accessKeyId) {
    throw forbidden('The access key ID in the request is not recognized by this server');
  }
  if (!auth.signedHeaders.includes('host')) {
    throw forbidden('The host header must be signed');
  }

  const amzDate = headerValue(request.headers, 'x-amz-date');
  const requestTime = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || requestTime === undefined) {
    throw forbidden('Missing or malformed x-amz-date header');
  }
  if (!amzDate.startsWith(auth.date)) {
    throw forbidden('Credential scope date does not match x-amz-date');
  }
  if (Math.abs(now - requestTime) > MAX_CLOCK_SKEW_MS) {
    throw forbidden(
      `Signature expired: request time ${amzDate} is more than ${MAX_CLOCK_SKEW_MS / 60000} minutes from server time ${new Date(now).toISOString()}`,
    );
  }

  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : request.url.slice(queryStart + 1);

  const canonicalHeaders: string[] = [];
  for (const name of auth.signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value === undefined) throw forbidden(`Signed header '${name}' is missing from the request`);
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}\n`);
  }
  const payloadHash = headerValue(request.headers, 'x-amz-content-sha256') ?? sha256Hex(request.body);

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = deriveSigningKey(credentials.secretAccessKey, auth.date, auth.region, auth.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw forbidden('The request signature does not match: check the secret access key and signing method');
  }
  // If the client declared a payload hash, it must match what was actually sent.
  const declared = headerValue(request.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== sha256Hex(request.body)) {
    throw forbidden('x-amz-content-sha256 does not match the request body');
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region };
}
