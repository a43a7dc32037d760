import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature every webhook POST carries:
 *   X-Chorus-Signature: sha256=<lower-case hex HMAC-SHA256 of the raw body, keyed with the webhook secret>
 * A receiver recomputes it over the bytes it received (before parsing the JSON)
 * and compares in constant time; `verifyWebhookSignature` does exactly that.
 */
export const SIGNATURE_HEADER = 'x-chorus-signature';
export const EVENT_ID_HEADER = 'x-chorus-event-id';
export const ATTEMPT_HEADER = 'x-chorus-delivery-attempt';

export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifyWebhookSignature(secret: string, body: string | Uint8Array, header: string | undefined): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const presented = Buffer.from(header);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
