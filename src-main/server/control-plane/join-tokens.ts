import { createHash, timingSafeEqual } from 'node:crypto';
import { CONTENT_SUFFIX } from '../../shared/chime-types.js';
import { randomString } from '../auth/credentials.js';

/**
 * Join tokens: 64 characters from [A-Za-z0-9], about 381 bits of randomness.
 * That alphabet fits Chime's JoinToken pattern and is a valid WebSocket
 * subprotocol token (no '=' or '/'), which is how the JS client presents it.
 */
export const JOIN_TOKEN_LENGTH = 64;

export function generateJoinToken(): string {
  return randomString(JOIN_TOKEN_LENGTH);
}

export function hashJoinToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of a presented token's hash with a stored hash (only hashes are stored). */
export function joinTokenMatchesHash(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashJoinToken(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Splits `<token>#content` into the attendee's token and whether the content-share session is meant. */
export function parsePresentedToken(presented: string): { token: string; content: boolean } {
  return presented.endsWith(CONTENT_SUFFIX)
    ? { token: presented.slice(0, -CONTENT_SUFFIX.length), content: true }
    : { token: presented, content: false };
}
