import type { MessageInitShape } from '@bufbuild/protobuf';
import type { SdkDataMessagePayload, SdkDataMessagePayloadSchema } from '../../shared/signaling/frames.js';
import { MEETING_LIMITS } from '../../shared/chime-types.js';
import { SlidingWindowLimit, TokenBucket } from './token-bucket.js';

/**
 * Data messages of one meeting, with the rules of the Chime service:
 * validation, token-bucket throttling, ingest timestamps and the lifetime
 * buffer that late joiners and reconnecting clients are replayed from.
 * Socket-free: the room passes frames in and sends what comes out.
 */

export const DATA_MESSAGE_TOPIC = /^[a-zA-Z0-9_-]{1,36}$/;

export interface DataMessageLimits {
  /** Meeting token bucket: refill rate and burst size. */
  meetingRatePerSec: number;
  meetingBurst: number;
  /** Hard caps over any rolling second, whatever the bucket holds. */
  attendeeHardPerSec: number;
  meetingHardPerSec: number;
  /** Lifetime buffer: how many messages, and the longest any is kept. */
  bufferMaxMessages: number;
  maxLifetimeMs: number;
}

export const DEFAULT_DATA_MESSAGE_LIMITS: DataMessageLimits = {
  meetingRatePerSec: 100,
  meetingBurst: 200,
  attendeeHardPerSec: 200,
  meetingHardPerSec: 500,
  bufferMaxMessages: 1024,
  maxLifetimeMs: MEETING_LIMITS.maxDataMessageLifetimeMs,
};

export type DataMessageRejectionCode = 'INVALID_TOPIC' | 'PAYLOAD_TOO_LARGE' | 'NEGATIVE_LIFETIME';

export interface DataMessageRejection {
  /** Position of the message in its frame. */
  index: number;
  code: DataMessageRejectionCode;
  message: string;
}

export type OutgoingDataMessage = MessageInitShape<typeof SdkDataMessagePayloadSchema> & { ingestTimeNs: bigint };

export interface DataMessageSender {
  /** `<AttendeeId>` or `<AttendeeId>#content`. */
  participantId: string;
  externalUserId: string;
}

export interface IngestOutcome {
  /** Accepted messages for everyone but the sender, in order. */
  relayed: OutgoingDataMessage[];
  /** Refused by throttling: back to the sender with ingest_time_ns 0, which the SDK reports as throttled. */
  throttled: OutgoingDataMessage[];
  /** Invalid messages; only the sender hears about them. */
  rejected: DataMessageRejection[];
}

interface BufferedMessage {
  message: OutgoingDataMessage;
  senderId: string;
  expiresAtMs: number;
}

/** The last message handed to an open connection of a participant, to replay only what a reconnecting client missed. */
interface Watermark {
  audioSessionId: bigint;
  lastIngestNs: bigint;
}

const MAX_WATERMARKS = 2048;
/** lifetime_ms is a uint32 on the wire; the SDK writes a negative number as its two's complement, so the top bit means negative. */
const NEGATIVE_UINT32 = 0x8000_0000;

/** Checks one message against the service's rules; undefined when it is valid. */
export function validateDataMessage(payload: SdkDataMessagePayload, index = 0): DataMessageRejection | undefined {
  if (!DATA_MESSAGE_TOPIC.test(payload.topic)) {
    return { index, code: 'INVALID_TOPIC', message: `topic ${quote(payload.topic)} must match ${DATA_MESSAGE_TOPIC.source}` };
  }
  if (payload.data.byteLength > MEETING_LIMITS.maxDataMessageBytes) {
    return { index, code: 'PAYLOAD_TOO_LARGE', message: `data of ${payload.data.byteLength} bytes exceeds ${MEETING_LIMITS.maxDataMessageBytes} bytes` };
  }
  if (payload.lifetimeMs >= NEGATIVE_UINT32) {
    return { index, code: 'NEGATIVE_LIFETIME', message: `lifetime_ms ${payload.lifetimeMs | 0} must be at least 0` };
  }
  return undefined;
}

/** The text of the NOTIFICATION that tells a sender why messages were refused. */
export function describeRejections(rejected: DataMessageRejection[], total: number): string {
  const shown = rejected.slice(0, 5).map((r) => `#${r.index} ${r.code}: ${r.message}`);
  const more = rejected.length > shown.length ? `; and ${rejected.length - shown.length} more` : '';
  return `DATA_MESSAGE rejected ${rejected.length} of ${total} message(s): ${shown.join('; ')}${more}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

export class DataMessageRelay {
  private readonly meetingBucket: TokenBucket;
  private readonly meetingHard: SlidingWindowLimit;
  private readonly attendeeHard = new Map<string, SlidingWindowLimit>();
  private readonly buffer: BufferedMessage[] = [];
  private readonly watermarks = new Map<string, Watermark>();
  private lastIngestNs = 0n;

  constructor(
    private readonly limits: DataMessageLimits = DEFAULT_DATA_MESSAGE_LIMITS,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.meetingBucket = new TokenBucket(limits.meetingRatePerSec, limits.meetingBurst);
    this.meetingHard = new SlidingWindowLimit(limits.meetingHardPerSec);
  }

  /** Takes the messages of one DATA_MESSAGE frame from `sender`. */
  ingest(sender: DataMessageSender, payloads: readonly SdkDataMessagePayload[]): IngestOutcome {
    const outcome: IngestOutcome = { relayed: [], throttled: [], rejected: [] };
    const now = this.nowMs();
    let attendeeHard = this.attendeeHard.get(sender.participantId);
    if (!attendeeHard) {
      attendeeHard = new SlidingWindowLimit(this.limits.attendeeHardPerSec);
      this.attendeeHard.set(sender.participantId, attendeeHard);
    }
    payloads.forEach((payload, index) => {
      const rejection = validateDataMessage(payload, index);
      if (rejection) {
        outcome.rejected.push(rejection);
        return;
      }
      // Whatever the client put in the sender and time fields is replaced: they are the server's to set.
      const base = {
        topic: payload.topic,
        data: payload.data,
        lifetimeMs: payload.lifetimeMs,
        senderAttendeeId: sender.participantId,
        senderExternalUserId: sender.externalUserId,
      };
      // The hard caps are checked first so that a refused message does not spend a bucket token.
      if (!attendeeHard.allows(now) || !this.meetingHard.allows(now) || !this.meetingBucket.take(now)) {
        outcome.throttled.push({ ...base, ingestTimeNs: 0n });
        return;
      }
      attendeeHard.record(now);
      this.meetingHard.record(now);
      const message = { ...base, ingestTimeNs: this.nextIngestTime(now) };
      outcome.relayed.push(message);
      if (payload.lifetimeMs > 0) this.keep(message, sender.participantId, now);
    });
    return outcome;
  }

  /**
   * The buffered messages a joining session should get, oldest first, after
   * which it counts as having seen everything so far. A client reconnecting with
   * the same audio_session_id gets only what was not handed to its earlier
   * connection; any other session gets every live message not its own.
   */
  replayFor(participantId: string, audioSessionId: bigint): OutgoingDataMessage[] {
    const now = this.nowMs();
    this.expire(now);
    const mark = this.watermarks.get(participantId);
    const after = mark && mark.audioSessionId === audioSessionId ? mark.lastIngestNs : -1n;
    const replay = this.buffer.filter((b) => b.senderId !== participantId && b.message.ingestTimeNs > after).map((b) => b.message);
    this.setWatermark(participantId, audioSessionId, this.lastIngestNs);
    return replay;
  }

  /** Messages up to `ingestTimeNs` were handed to an open connection of `participantId`. */
  delivered(participantId: string, audioSessionId: bigint, ingestTimeNs: bigint): void {
    const mark = this.watermarks.get(participantId);
    if (mark && mark.audioSessionId === audioSessionId) {
      if (ingestTimeNs > mark.lastIngestNs) mark.lastIngestNs = ingestTimeNs;
      return;
    }
    this.setWatermark(participantId, audioSessionId, ingestTimeNs);
  }

  private setWatermark(participantId: string, audioSessionId: bigint, lastIngestNs: bigint): void {
    this.watermarks.delete(participantId);
    this.watermarks.set(participantId, { audioSessionId, lastIngestNs });
    if (this.watermarks.size > MAX_WATERMARKS) this.watermarks.delete(this.watermarks.keys().next().value!);
  }

  /** How many messages the lifetime buffer holds right now. */
  get buffered(): number {
    this.expire(this.nowMs());
    return this.buffer.length;
  }

  /** Wall-clock nanoseconds, nudged so that every accepted message in the meeting gets a later time than the one before. */
  private nextIngestTime(nowMs: number): bigint {
    const candidate = BigInt(Math.floor(nowMs)) * 1_000_000n;
    this.lastIngestNs = candidate > this.lastIngestNs ? candidate : this.lastIngestNs + 1n;
    return this.lastIngestNs;
  }

  private keep(message: OutgoingDataMessage, senderId: string, now: number): void {
    this.expire(now);
    const lifetime = Math.min(message.lifetimeMs ?? 0, this.limits.maxLifetimeMs);
    this.buffer.push({ message, senderId, expiresAtMs: now + lifetime });
    // Full: the oldest message makes way.
    if (this.buffer.length > this.limits.bufferMaxMessages) this.buffer.shift();
  }

  /** Drops expired messages. Lifetimes differ, so an expired one may sit behind a live one. */
  private expire(now: number): void {
    if (this.buffer.some((b) => b.expiresAtMs <= now)) {
      const live = this.buffer.filter((b) => b.expiresAtMs > now);
      this.buffer.length = 0;
      this.buffer.push(...live);
    }
  }
}
