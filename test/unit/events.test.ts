import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { loadTlsMaterial } from '../../src-main/server/tls/certificate.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src-main/server/cli-args.js';
import { mediaPlacementFor } from '../../src-main/server/control-plane/media-placement.js';
import { DEFAULT_LIFECYCLE_TIMEOUTS } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { MeetingService } from '../../src-main/server/control-plane/meeting-service.js';
import { InMemoryMeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { MeetingEventSource } from '../../src-main/server/events/event-sources.js';
import { buildMeetingEvent, CHIME_MEETING_EVENT_TYPES, type ChimeMeetingEvent } from '../../src-main/server/events/meeting-events.js';
import { EventOutbox } from '../../src-main/server/events/outbox.js';
import { WebhookTarget } from '../../src-main/server/events/webhook-delivery.js';
import { resolveWebhookSecret } from '../../src-main/server/events/webhook-secret.js';
import { signWebhookBody, verifyWebhookSignature } from '../../src-main/server/events/webhook-signature.js';
import { createLogger } from '../../src-main/server/logger.js';
import { systemClock } from '../../src-main/server/runtime/clock.js';
import type { RoomActivityEvents } from '../../src-main/server/signaling/room-activity.js';
import { TypedEmitter } from '../../src-main/shared/typed-emitter.js';
import type { Meeting } from '../../src-main/shared/chime-types.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempDir } from '../helpers/server.js';

const logger = createLogger({ level: 'error', write: () => undefined });
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await makeTempDir('chorus-events-');
  dirs.push(dir);
  return dir;
}

const meeting = { MeetingId: 'f1c7a9c2-0000-4000-8000-000000000001', ExternalMeetingId: 'ext-1', MediaRegion: 'ap-south-1' } as Meeting;

describe('meeting event shape', () => {
  it('is an EventBridge event with a Chime detail', () => {
    const event = buildMeetingEvent('AttendeeJoined', meeting, { attendeeId: 'a-1', externalUserId: 'alice' }, Date.UTC(2026, 0, 2, 3, 4, 5, 678), 'evt-1');
    expect(event).toEqual({
      version: '0',
      id: 'evt-1',
      'detail-type': 'Chime Meeting State Change',
      source: 'aws.chime',
      account: '000000000000',
      time: '2026-01-02T03:04:05Z',
      region: 'ap-south-1',
      resources: [],
      detail: {
        version: '0',
        eventType: 'chime:AttendeeJoined',
        timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
        meetingId: meeting.MeetingId,
        externalMeetingId: 'ext-1',
        mediaRegion: 'ap-south-1',
        attendeeId: 'a-1',
        externalUserId: 'alice',
      },
    });
    const started = buildMeetingEvent('MeetingStarted', { ...meeting, ExternalMeetingId: undefined }, undefined, 0);
    expect(started.detail).toEqual({ version: '0', eventType: 'chime:MeetingStarted', timestamp: 0, meetingId: meeting.MeetingId, mediaRegion: 'ap-south-1' });
    expect(started.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(CHIME_MEETING_EVENT_TYPES).toHaveLength(14);
  });
});

describe('MeetingEventSource', () => {
  it.each(['before', 'after'] as const)('maps service and room reports to Chime event types in causal order, with the rooms subscribed %s it', async (roomsSubscribed) => {
    const service = new MeetingService({
      store: new InMemoryMeetingStore(),
      clock: systemClock,
      logger,
      placementFor: (id) => mediaPlacementFor('http://127.0.0.1:1', id),
      maxActiveMeetings: 10,
      lifecycle: DEFAULT_LIFECYCLE_TIMEOUTS,
    });
    const activity = new TypedEmitter<RoomActivityEvents>();
    // Stands in for the signaling gateway, whose rooms report leaves when the meeting ends:
    // the order of subscription must not matter.
    const present: RoomActivityEvents['joined'][] = [];
    const subscribeRooms = (): void => {
      service.events.on('meetingEnded', () => {
        for (const s of present.splice(0)) activity.emit('left', { ...s, dropped: false });
      });
    };
    if (roomsSubscribed === 'before') subscribeRooms();
    const source = new MeetingEventSource({ service, activity, logger });
    if (roomsSubscribed === 'after') subscribeRooms();
    const seen: ChimeMeetingEvent[] = [];
    source.events.on('event', (e) => seen.push(e));

    const { meeting: m } = await service.createMeeting({ MediaRegion: 'us-east-1', ExternalMeetingId: 'unit' } as never);
    const [a, b] = (await service.createAttendees(m.MeetingId, [{ ExternalUserId: 'alice' }, { ExternalUserId: 'bob' }] as never)).attendees;
    const subject = (attendee: typeof a, content = false) => ({ meeting: m, attendee: attendee!, participantId: attendee!.AttendeeId + (content ? '#content' : ''), content });
    activity.emit('authorized', subject(a));
    activity.emit('joined', subject(a));
    present.push(subject(a));
    activity.emit('joined', subject(b, true));
    activity.emit('videoStarted', subject(b, true));
    activity.emit('videoStopped', subject(b, true));
    activity.emit('left', { ...subject(b, true), dropped: true });
    activity.emit('videoStarted', subject(a));
    await service.deleteAttendee(m.MeetingId, b!.AttendeeId);
    await service.deleteMeeting(m.MeetingId);
    source.close();
    activity.emit('joined', subject(a));

    const A = a!.AttendeeId;
    const B = b!.AttendeeId;
    expect(seen.map((e) => `${e.detail.eventType} ${e.detail.attendeeId ?? ''}`.trim())).toEqual([
      'chime:MeetingStarted',
      `chime:AttendeeAdded ${A}`,
      `chime:AttendeeAdded ${B}`,
      `chime:AttendeeAuthorized ${A}`,
      `chime:AttendeeJoined ${A}`,
      `chime:AttendeeContentJoined ${B}#content`,
      `chime:AttendeeContentVideoStarted ${B}#content`,
      `chime:AttendeeContentVideoStopped ${B}#content`,
      `chime:AttendeeContentLeft ${B}#content`,
      `chime:AttendeeVideoStarted ${A}`,
      `chime:AttendeeDeleted ${B}`,
      // A leaves with its video reported on, so its video is reported stopped first.
      `chime:AttendeeVideoStopped ${A}`,
      `chime:AttendeeLeft ${A}`,
      `chime:AttendeeDeleted ${A}`,
      'chime:MeetingEnded',
    ]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    await service.close();
  });
});

describe('EventOutbox', () => {
  it('keeps undelivered events in order across reopening, and forgets delivered ones', async () => {
    const dir = await tempDir();
    const first = new EventOutbox(dir);
    for (const n of [1, 2, 3]) first.append(`{"n":${n}}`);
    first.ack(first.peek()!.seq);
    first.ack(99); // not the oldest: ignored
    first.close();
    // A crash in the middle of an append leaves a line cut short at the end of the segment.
    const segment = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, segment), '3\t{"n":');
    const second = new EventOutbox(dir);
    expect(second.size).toBe(2);
    second.append('{"n":4}');
    const entries: { seq: number; body: string }[] = [];
    for (let e = second.peek(); e; e = second.peek()) {
      entries.push(e);
      second.ack(e.seq);
    }
    expect(entries.map((e) => e.body)).toEqual(['{"n":2}', '{"n":3}', '{"n":4}']);
    // Sequence numbers keep growing across runs: the cut-short line did not reuse one.
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 4]);
    second.close();
    const third = new EventOutbox(dir);
    expect(third.size).toBe(0);
    third.close();
  });

  it('deletes segment files once all their events are delivered', async () => {
    const dir = await tempDir();
    const outbox = new EventOutbox(dir);
    for (let n = 0; n < 2500; n++) outbox.append(`{"n":${n}}`);
    const logs = () => readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(logs()).toEqual(['0000000000000000.log', '0000000000001000.log', '0000000000002000.log']);
    for (let n = 0; n < 1500; n++) outbox.ack(outbox.peek()!.seq);
    expect(logs()).toEqual(['0000000000001000.log', '0000000000002000.log']);
    for (let n = 0; n < 1000; n++) outbox.ack(outbox.peek()!.seq);
    expect(logs()).toEqual(['0000000000002000.log']);
    outbox.close();
  });

  it('drops the oldest past its cap rather than grow without bound', async () => {
    const dir = await tempDir();
    const outbox = new EventOutbox(dir, 3);
    for (const n of [1, 2, 3, 4, 5]) outbox.append(String(n));
    expect(outbox.size).toBe(3);
    expect(outbox.droppedCount).toBe(2);
    expect(outbox.peek()!.body).toBe('3');
    outbox.close();
    expect(new EventOutbox(dir).size).toBe(3);
  });
});

describe('webhook signature and secret', () => {
  it('signs the exact body with HMAC-SHA256 and verifies in constant time', () => {
    const body = '{"id":"x"}';
    const header = signWebhookBody('secret-0123456789', body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('secret-0123456789', body, header)).toBe(true);
    expect(verifyWebhookSignature('secret-0123456789', body + ' ', header)).toBe(false);
    expect(verifyWebhookSignature('other-secret-0123', body, header)).toBe(false);
    expect(verifyWebhookSignature('secret-0123456789', body, header.toUpperCase())).toBe(false);
    expect(verifyWebhookSignature('secret-0123456789', body, undefined)).toBe(false);
  });

  it('generates an owner-only secret once, then reuses it; the environment overrides it', async () => {
    const dir = await tempDir();
    const made = await resolveWebhookSecret(dir, {});
    expect(made.source).toMatchObject({ kind: 'file', generated: true });
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9]{40}$/);
    expect(await resolveWebhookSecret(dir, {})).toMatchObject({ secret: made.secret, source: { generated: false } });
    expect(await resolveWebhookSecret(dir, { CHORUS_WEBHOOK_SECRET: 'from-env-0123456789' })).toEqual({ secret: 'from-env-0123456789', source: { kind: 'environment' } });
    await expect(resolveWebhookSecret(dir, { CHORUS_WEBHOOK_SECRET: 'short' })).rejects.toThrow(/at least 16/);
  });
});

describe('WebhookTarget', () => {
  async function receiver(answer: (n: number) => number) {
    const got: { body: string; attempt: string; signature: string }[] = [];
    let n = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ body, attempt: String(req.headers['x-chorus-delivery-attempt']), signature: String(req.headers['x-chorus-signature']) });
        res.writeHead(answer(n++)).end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { got, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
  }

  it('retries with backoff, in order, re-sending the same signed body, and empties the outbox', async () => {
    const { got, url } = await receiver((n) => (n < 3 ? 503 : 200));
    const outbox = new EventOutbox(await tempDir());
    const target = new WebhookTarget({ url, secret: 'secret-0123456789', outbox, logger, retry: { initialBackoffMs: 10, maxBackoffMs: 40 } });
    outbox.append('{"id":"e1"}');
    outbox.append('{"id":"e2"}');
    target.kick();
    await eventually(() => expect(outbox.size).toBe(0), 5_000, 20);
    expect(got.map((g) => [g.body, g.attempt])).toEqual([['{"id":"e1"}', '1'], ['{"id":"e1"}', '2'], ['{"id":"e1"}', '3'], ['{"id":"e1"}', '4'], ['{"id":"e2"}', '1']]);
    expect(got.every((g) => verifyWebhookSignature('secret-0123456789', g.body, g.signature))).toBe(true);
    expect(target.stats).toEqual({ delivered: 2, pending: 0, consecutiveFailures: 0 });
    await target.close();
  });

  it('gives up on an event the receiver keeps refusing with a 4xx, and moves on', async () => {
    const { got, url } = await receiver((n) => (n < 3 ? 422 : 200));
    const outbox = new EventOutbox(await tempDir());
    const target = new WebhookTarget({ url, secret: 'secret-0123456789', outbox, logger, retry: { initialBackoffMs: 5, maxBackoffMs: 5, maxRejectedAttempts: 3 } });
    outbox.append('{"id":"refused"}');
    outbox.append('{"id":"fine"}');
    target.kick();
    await eventually(() => expect(outbox.size).toBe(0), 5_000, 20);
    expect(got.map((g) => g.body)).toEqual(['{"id":"refused"}', '{"id":"refused"}', '{"id":"refused"}', '{"id":"fine"}']);
    await target.close();
  });

  it('keeps undelivered events on disk when closed while the receiver is unreachable', async () => {
    const dir = await tempDir();
    const outbox = new EventOutbox(dir);
    const target = new WebhookTarget({ url: 'http://127.0.0.1:9/', secret: 'secret-0123456789', outbox, logger, retry: { initialBackoffMs: 10_000 } });
    outbox.append('{"id":"kept"}');
    target.kick();
    await eventually(() => expect(target.stats.consecutiveFailures).toBe(1), 5_000, 20);
    await target.close();
    outbox.close();
    expect(new EventOutbox(dir).peek()?.body).toBe('{"id":"kept"}');
    expect(existsSync(dir)).toBe(true);
  });
});

describe('WebhookTarget over HTTPS', () => {
  it('verifies the receiver certificate: an untrusted one is a failed delivery, retried, never a silent success', async () => {
    const tls = await loadTlsMaterial({ dataDir: await tempDir(), hostnames: ['127.0.0.1'] });
    let requests = 0;
    const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      requests++;
      res.writeHead(204).end();
    });
    servers.push(server as unknown as Server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const outbox = new EventOutbox(await tempDir());
    const warnings: string[] = [];
    const log = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
    const target = new WebhookTarget({ url: `https://127.0.0.1:${(server.address() as { port: number }).port}/`, secret: 'secret-0123456789', outbox, logger: log, retry: { initialBackoffMs: 10_000 } });
    outbox.append('{"id":"tls"}');
    target.kick();
    await eventually(() => expect(target.stats.consecutiveFailures).toBe(1), 5_000, 20);
    expect(requests).toBe(0);
    expect(outbox.size).toBe(1);
    expect(warnings.join('\n')).toMatch(/webhook_delivery_failed.*self[- ]signed/);
    await target.close();
    outbox.close();
  });
});

describe('CLI', () => {
  it('takes --webhook-url more than once and checks it is an http(s) URL', () => {
    const { config } = parseCliArgs(['--webhook-url', 'http://a.example/hook', '--webhook-url=https://b.example/x', '--webhook-max-backoff', '5'], {});
    expect(config.webhookUrls).toEqual(['http://a.example/hook', 'https://b.example/x']);
    expect(config.webhookRetry).toEqual({ maxBackoffMs: 5000 });
    expect(parseCliArgs([], {}).config.webhookUrls).toBeUndefined();
    expect(() => parseCliArgs(['--webhook-url', 'ftp://x'], {})).toThrow(/--webhook-url 'ftp:\/\/x' is not an http/);
    expect(() => parseCliArgs(['--webhook-url'], {})).toThrow(/needs a value/);
  });
});
