/**
 * Chat and reactions travel as Chime data messages. A chat message is JSON
 * `{ v: 1, id, text }` on topic `chat`, kept by the server for CHAT_LIFETIME_MS so
 * late joiners get recent history; a reaction is `{ v: 1, emoji }` on topic `reaction`.
 * The Chime limit is 2 KB per message, checked here before the SDK would throw.
 */
import { MEETING_LIMITS } from '../../../src-main/shared/chime-types.js';
import { t } from '../i18n/i18n';

export const CHAT_TOPIC = 'chat';
export const REACTION_TOPIC = 'reaction';
/** Sent by the server itself (empty sender) when the host mutes this attendee. */
export { HOST_CONTROL_TOPIC } from '../../../src-main/shared/app-api.js';
/** Chat is kept as long as the service keeps any data message. */
export const CHAT_LIFETIME_MS = MEETING_LIMITS.maxDataMessageLifetimeMs;
export const MAX_DATA_MESSAGE_BYTES = MEETING_LIMITS.maxDataMessageBytes;
export const REACTIONS = ['👍', '👏', '😂', '❤️', '🎉', '😮'] as const;

export type EncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeChat(id: string, text: string): EncodeResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: t.chat.emptyMessage };
  const bytes = encoder.encode(JSON.stringify({ v: 1, id, text: trimmed }));
  if (bytes.length > MAX_DATA_MESSAGE_BYTES) {
    return { ok: false, reason: t.chat.tooLong(bytes.length, MAX_DATA_MESSAGE_BYTES) };
  }
  return { ok: true, bytes };
}

function parse(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a chat message; anything malformed (another client, a bad actor) is dropped. */
export function decodeChat(bytes: Uint8Array): { id: string; text: string } | undefined {
  const o = parse(bytes);
  if (!o || o.v !== 1 || typeof o.id !== 'string' || typeof o.text !== 'string') return undefined;
  if (o.id.length === 0 || o.id.length > 64 || o.text.length === 0) return undefined;
  return { id: o.id, text: o.text };
}

export function encodeReaction(emoji: string): Uint8Array {
  return encoder.encode(JSON.stringify({ v: 1, emoji }));
}

export function decodeReaction(bytes: Uint8Array): string | undefined {
  const o = parse(bytes);
  if (!o || o.v !== 1 || typeof o.emoji !== 'string') return undefined;
  return (REACTIONS as readonly string[]).includes(o.emoji) ? o.emoji : undefined;
}

/**
 * At most `max` sends per `windowMs`: the client refuses (and shows as failed)
 * rather than have the server drop messages silently.
 */
export class SendBudget {
  private readonly sent: number[] = [];
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  take(now: number): boolean {
    while (this.sent.length > 0 && now - this.sent[0]! >= this.windowMs) this.sent.shift();
    if (this.sent.length >= this.max) return false;
    this.sent.push(now);
    return true;
  }
}

export function isHostMute(bytes: Uint8Array): boolean {
  const o = parse(bytes);
  return o?.v === 1 && o.action === 'mute';
}
