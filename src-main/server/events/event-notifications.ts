import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { TypedEmitter } from '../../shared/typed-emitter.js';
import type { ApiCredentials } from '../auth/sigv4.js';
import type { MeetingServiceEvents } from '../control-plane/meeting-service.js';
import type { Logger } from '../logger.js';
import type { RoomActivity } from '../signaling/room-activity.js';
import { MeetingEventSource, type RestoredPresence } from './event-sources.js';
import { EVENTS_PATH, EventStream } from './event-stream.js';
import type { ChimeMeetingEvent } from './meeting-events.js';
import { EventOutbox } from './outbox.js';
import { WebhookTarget, type WebhookRetryPolicy } from './webhook-delivery.js';
import type { ResolvedWebhookSecret } from './webhook-secret.js';

export const OUTBOX_DIR = 'event-outbox';

export interface EventNotificationsOptions {
  dataDir: string;
  /** Required when there are webhook URLs (see resolveWebhookSecret). */
  webhookSecret?: ResolvedWebhookSecret;
  service: { events: TypedEmitter<MeetingServiceEvents> };
  activity: RoomActivity;
  credentials: ApiCredentials;
  logger: Logger;
  webhookUrls?: string[];
  webhookRetry?: Partial<WebhookRetryPolicy>;
  now?: () => number;
  /** Presence reported by an earlier run, and where to keep it (see MeetingEventSource). */
  presence?: RestoredPresence;
}

/** The outbox directory of one webhook URL: stable across restarts, distinct per URL. */
export function outboxDirFor(dataDir: string, url: string): string {
  return join(dataDir, OUTBOX_DIR, createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Event notifications end to end: meeting events from the control plane and
 * the rooms, each written to every webhook's durable outbox before delivery,
 * and published on the GET /events stream.
 */
export class EventNotifications {
  readonly stream: EventStream;
  private readonly source: MeetingEventSource;
  private closed = false;

  private constructor(
    private readonly options: EventNotificationsOptions,
    readonly webhookSecret: ResolvedWebhookSecret | undefined,
    readonly webhooks: WebhookTarget[],
    private readonly outboxes: EventOutbox[],
  ) {
    this.stream = new EventStream({ credentials: options.credentials, logger: options.logger });
    this.source = new MeetingEventSource({ service: options.service, activity: options.activity, logger: options.logger, now: options.now, presence: options.presence });
    this.source.events.on('event', (event) => this.dispatch(event));
    // Whatever an earlier run left undelivered goes out now.
    for (const target of webhooks) target.kick();
  }

  /**
   * Must be called after the signaling gateway has subscribed to the service's
   * events (see MeetingEventSource), so that leaves precede the meeting's end.
   */
  static start(options: EventNotificationsOptions): EventNotifications {
    const urls = [...new Set(options.webhookUrls ?? [])];
    const secret = options.webhookSecret;
    if (urls.length > 0 && !secret) throw new Error('webhook URLs need a webhook secret');
    const outboxes: EventOutbox[] = [];
    const targets = urls.map((url) => {
      const outbox = new EventOutbox(outboxDirFor(options.dataDir, url));
      // For whoever looks in the directory.
      writeFileSync(join(outbox.dir, 'url'), `${url}\n`, { mode: 0o600 });
      outboxes.push(outbox);
      if (outbox.size > 0) options.logger.info('webhook_outbox_resumed', { url, pending: outbox.size });
      return new WebhookTarget({ url, secret: secret!.secret, outbox, logger: options.logger.child({ webhook: url }), retry: options.webhookRetry });
    });
    return new EventNotifications(options, secret, targets, outboxes);
  }

  /** Serves GET /events; returns false for any other path. */
  handleRequest(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    if (pathname !== EVENTS_PATH) return false;
    this.stream.handle(req, res);
    return true;
  }

  /** Stops delivery and the stream; undelivered events stay in the outboxes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
    this.stream.close();
    await Promise.all(this.webhooks.map((w) => w.close()));
    for (const outbox of this.outboxes) outbox.close();
  }

  private dispatch(event: ChimeMeetingEvent): void {
    const body = JSON.stringify(event);
    this.outboxes.forEach((outbox, i) => {
      try {
        outbox.append(body);
      } catch (error) {
        this.options.logger.error('webhook_outbox_write_failed', { dir: outbox.dir, eventId: event.id, error });
      }
      this.webhooks[i]!.kick();
    });
    this.stream.publish(event);
    this.options.logger.debug('meeting_event', { id: event.id, type: event.detail.eventType, meetingId: event.detail.meetingId });
  }
}
