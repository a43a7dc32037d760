import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../logger.js';
import type { EventOutbox } from './outbox.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export interface WebhookRetryPolicy {
  /** Wait after the first failure; it doubles with each further failure... */
  initialBackoffMs: number;
  /** ...up to this. */
  maxBackoffMs: number;
  /** A receiver that answers 4xx (other than 408 and 429) refuses the event itself: give up on it after this many attempts. */
  maxRejectedAttempts: number;
  /** How long one POST may take. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: WebhookRetryPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxRejectedAttempts: 10,
  timeoutMs: 10_000,
};

export interface WebhookTargetOptions {
  url: string;
  secret: string;
  outbox: EventOutbox;
  logger: Logger;
  retry?: Partial<WebhookRetryPolicy>;
}

type PostResult = { ok: true; status: number } | { ok: false; status?: number; error?: string };

/**
 * Delivers one target's outbox in order, one POST at a time, at least once:
 * an event leaves the outbox only after a 2xx. Failures back off exponentially
 * (with jitter) and block the events behind them, which keeps causal order.
 */
export class WebhookTarget {
  private readonly retry: WebhookRetryPolicy;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private inflight: (() => void) | undefined;
  private idle: Promise<void> = Promise.resolve();
  private delivered = 0;

  constructor(private readonly options: WebhookTargetOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  get url(): string {
    return this.options.url;
  }

  get stats() {
    return { delivered: this.delivered, pending: this.options.outbox.size, consecutiveFailures: this.failures };
  }

  /** Something was appended to the outbox, or the target should try again now. */
  kick(): void {
    if (this.closed || this.running || this.timer) return;
    this.running = true;
    this.idle = this.pump().finally(() => {
      this.running = false;
      // An event appended while the loop was finishing would otherwise wait for the next one.
      if (!this.timer && this.options.outbox.size > 0) this.kick();
    });
  }

  /** Stops delivering; whatever is undelivered stays in the outbox for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight?.();
    await this.idle;
  }

  private async pump(): Promise<void> {
    const outbox = this.options.outbox;
    for (let entry = outbox.peek(); entry && !this.closed; entry = outbox.peek()) {
      const attempt = this.failures + 1;
      const result = await this.post(entry.body, attempt);
      if (this.closed) return;
      if (result.ok) {
        outbox.ack(entry.seq);
        this.delivered++;
        this.failures = 0;
        continue;
      }
      this.failures++;
      const rejected = result.status !== undefined && result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429;
      if (rejected && this.failures >= this.retry.maxRejectedAttempts) {
        this.options.logger.error('webhook_event_abandoned', { url: this.options.url, status: result.status, attempts: this.failures });
        outbox.ack(entry.seq);
        this.failures = 0;
        continue;
      }
      const backoff = Math.min(this.retry.maxBackoffMs, this.retry.initialBackoffMs * 2 ** Math.min(this.failures - 1, 30));
      // Jitter keeps several servers from hammering a recovering receiver in step.
      const wait = Math.round(backoff * (0.75 + Math.random() * 0.25));
      this.options.logger.warn('webhook_delivery_failed', { url: this.options.url, status: result.status, error: result.error, attempt, retryInMs: wait });
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, wait);
      return;
    }
  }

  private post(body: string, attempt: number): Promise<PostResult> {
    const url = new URL(this.options.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const eventId = eventIdOf(body);
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const finish = (result: PostResult): void => {
        if (settled) return;
        settled = true;
        this.inflight = undefined;
        resolve(result);
      };
      const req = send(url, {
        method: 'POST',
        // No pooling: one short request at a time, and nothing left open at shutdown.
        agent: false,
        timeout: this.retry.timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Chorus-Webhook/1',
          [SIGNATURE_HEADER]: signWebhookBody(this.options.secret, body),
          [ATTEMPT_HEADER]: String(attempt),
          ...(eventId ? { [EVENT_ID_HEADER]: eventId } : {}),
        },
      }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.on('end', () => finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status }));
        res.on('error', (error) => finish({ ok: false, status, error: error.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.retry.timeoutMs} ms`)));
      req.on('error', (error) => finish({ ok: false, error: error.message }));
      this.inflight = () => {
        req.destroy(new Error('closing'));
        finish({ ok: false, error: 'closing' });
      };
      req.end(body);
    });
  }
}

function eventIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
