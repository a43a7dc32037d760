import {
  CreateAttendeeCommand,
  CreateMeetingCommand,
  DeleteAttendeeCommand,
  DeleteMeetingCommand,
  type Attendee,
  type Meeting,
} from '@aws-sdk/client-chime-sdk-meetings';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { writeFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { startChorusServer } from '../../src-main/server/chorus-server.js';
import { createLogger } from '../../src-main/server/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import type { ChimeMeetingEvent } from '../../src-main/server/events/meeting-events.js';
import { SdkSignalFrame_Type as T } from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { makeTempDir, startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { signalingUrl, SignalClient } from '../helpers/signaling-client.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Meeting events from the real server: a real HTTP receiver gets a meeting's
 * whole lifecycle, signed and in causal order, and the GET /events stream
 * carries the same events.
 */

let t: TestServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start('not-yet-known');
  t = await startTestServer({ iceHost: '127.0.0.1', udpPort: 0, webhookUrls: [receiver.url], webhookRetry: { initialBackoffMs: 50, maxBackoffMs: 200 } });
  receiver.secret = t.server.events.webhookSecret!.secret;
});
afterAll(async () => {
  await t?.close();
  await receiver?.down();
});

/** An SSE client on GET /events that collects every event. */
class EventStreamClient {
  readonly events: ChimeMeetingEvent[] = [];
  status = 0;
  contentType = '';
  body = '';
  private buffer = '';
  private destroy: () => void = () => undefined;

  static open(baseUrl: string, headers: Record<string, string>): Promise<EventStreamClient> {
    const client = new EventStreamClient();
    return new Promise((resolve, reject) => {
      const req = request(`${baseUrl}/events`, { headers }, (res) => {
        client.status = res.statusCode ?? 0;
        client.contentType = String(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        if (client.status !== 200) res.on('end', () => resolve(client));
        else resolve(client);
      });
      req.on('error', reject);
      req.end();
      client.destroy = () => req.destroy();
    });
  }

  close(): void {
    this.destroy();
  }

  private feed(chunk: string): void {
    this.body += chunk;
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const message = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = message.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      const id = message.split('\n').find((l) => l.startsWith('id: '))?.slice(4);
      if (data) {
        const event = JSON.parse(data) as ChimeMeetingEvent;
        expect(event.id).toBe(id);
        this.events.push(event);
      }
    }
  }
}

async function sigV4Headers(baseUrl: string, credentials = TEST_CREDENTIALS): Promise<Record<string, string>> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'chime', sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(new HttpRequest({ protocol: url.protocol, hostname: url.hostname, port: Number(url.port), method: 'GET', path: '/events', headers: { host: url.host } }));
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers.host;
  return headers;
}

/**
 * HeadlessClient retries a join whose DTLS handshake lost a race (see its join()); the abandoned
 * attempt is a real session that authorizes, joins, publishes and drops. Such a complete block,
 * followed by the same attendee authorizing again, is taken out so the lifecycle can be compared.
 */
function withoutRetriedJoins(list: string[]): string[] {
  const out = [...list];
  for (let i = 0; i < out.length; i++) {
    if (!out[i]!.startsWith('AttendeeAuthorized ')) continue;
    const id = out[i]!.split(' ')[1]!;
    const again = out.indexOf(out[i]!, i + 1);
    if (again < 0) continue;
    const block = out.slice(i, again);
    if (block.every((e) => e.endsWith(` ${id}`)) && /^Attendee(Content)?(Left|Dropped) /.test(block.at(-1)!)) {
      out.splice(i, again - i);
      i--;
    }
  }
  return out;
}

const summary = (events: ChimeMeetingEvent[], meetingId: string): string[] =>
  events.filter((e) => e.detail.meetingId === meetingId).map((e) => `${e.detail.eventType.slice(6)}${e.detail.attendeeId ? ' ' + e.detail.attendeeId : ''}`);

describe('event notifications', () => {
  it('delivers a meeting lifecycle to the webhook, signed and in causal order, and the same events on GET /events', async () => {
    const bearer = await EventStreamClient.open(t.server.url, { Authorization: `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}` });
    const signed = await EventStreamClient.open(t.server.url, await sigV4Headers(t.server.url));
    expect([bearer.status, signed.status]).toEqual([200, 200]);
    expect(bearer.contentType).toMatch(/^text\/event-stream/);

    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'eu-west-1', ExternalMeetingId: 'events-lifecycle' }));
    const meeting: Meeting = Meeting!;
    const meetingId = meeting.MeetingId!;
    const created = async (name: string): Promise<Attendee> =>
      (await t.client.send(new CreateAttendeeCommand({ MeetingId: meetingId, ExternalUserId: name }))).Attendee!;
    const a = await created('alice');
    const b = await created('bob');
    const A = a.AttendeeId!;
    const B = b.AttendeeId!;
    const seen = (event: string) => eventually(() => expect(summary(receiver.events, meetingId)).toContain(event), 10_000, 50);

    // A joins with a camera; B joins without one, then shares content with video.
    const alice = await HeadlessClient.join(meeting, a, { publishVideo: true });
    await seen(`AttendeeVideoStarted ${A}`);
    const bob = await SignalClient.connect(signalingUrl(meeting), { token: b.JoinToken! });
    await bob.join();
    await seen(`AttendeeJoined ${B}`);
    const bobContent = await HeadlessClient.join(meeting, { ...b, JoinToken: `${b.JoinToken!}#content` }, { publishVideo: true });
    await seen(`AttendeeContentVideoStarted ${B}#content`);
    await bobContent.close(); // no LEAVE: its connection is simply gone
    await eventually(() => expect(summary(receiver.events, meetingId).at(-1)).toBe(`AttendeeContentLeft ${B}#content`), 10_000, 50);
    bob.send({ type: T.LEAVE, leave: {} });
    await bob.frame(T.LEAVE_ACK);
    await seen(`AttendeeLeft ${B}`);
    await alice.close();
    await seen(`AttendeeDropped ${A}`);
    await t.client.send(new DeleteAttendeeCommand({ MeetingId: meetingId, AttendeeId: B }));
    await seen(`AttendeeDeleted ${B}`);
    await t.client.send(new DeleteMeetingCommand({ MeetingId: meetingId }));
    await seen('MeetingEnded');

    expect(withoutRetriedJoins(summary(receiver.events, meetingId))).toEqual([
      'MeetingStarted',
      `AttendeeAdded ${A}`,
      `AttendeeAdded ${B}`,
      `AttendeeAuthorized ${A}`,
      `AttendeeJoined ${A}`,
      `AttendeeVideoStarted ${A}`,
      `AttendeeAuthorized ${B}`,
      `AttendeeJoined ${B}`,
      `AttendeeAuthorized ${B}#content`,
      `AttendeeContentJoined ${B}#content`,
      `AttendeeContentVideoStarted ${B}#content`,
      `AttendeeContentVideoStopped ${B}#content`,
      `AttendeeContentLeft ${B}#content`,
      `AttendeeLeft ${B}`,
      `AttendeeVideoStopped ${A}`,
      `AttendeeDropped ${A}`,
      `AttendeeDeleted ${B}`,
      `AttendeeDeleted ${A}`,
      'MeetingEnded',
    ]);

    const ours = receiver.deliveries.filter((d) => d.event.detail.meetingId === meetingId);
    expect(ours.every((d) => d.signatureValid && d.headerId === d.id)).toBe(true);
    const joined = receiver.events.find((e) => e.detail.eventType === 'chime:AttendeeJoined' && e.detail.attendeeId === A)!;
    expect(joined).toMatchObject({
      version: '0',
      'detail-type': 'Chime Meeting State Change',
      source: 'aws.chime',
      region: 'eu-west-1',
      resources: [],
      detail: { version: '0', eventType: 'chime:AttendeeJoined', meetingId, externalMeetingId: 'events-lifecycle', attendeeId: A, externalUserId: 'alice', mediaRegion: 'eu-west-1' },
    });
    expect(joined.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(joined.detail.timestamp - Date.now())).toBeLessThan(60_000);
    const contentJoined = receiver.events.find((e) => e.detail.eventType === 'chime:AttendeeContentJoined')!;
    expect(contentJoined.detail.externalUserId).toBe('bob');

    // Both streams carry exactly the same events (same ids, same content), in the same order.
    const webhookIds = receiver.events.filter((e) => e.detail.meetingId === meetingId);
    await eventually(() => expect(summary(bearer.events, meetingId)).toHaveLength(webhookIds.length), 5_000, 50);
    await eventually(() => expect(summary(signed.events, meetingId)).toHaveLength(webhookIds.length), 5_000, 50);
    expect(bearer.events.filter((e) => e.detail.meetingId === meetingId)).toEqual(webhookIds);
    expect(signed.events.filter((e) => e.detail.meetingId === meetingId)).toEqual(webhookIds);
    bearer.close();
    signed.close();
  }, 60_000);

  it('reports a connected attendee as left before it is deleted, and everyone left before the meeting ends', async () => {
    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'events-live-end' }));
    const meetingId = Meeting!.MeetingId!;
    const a = (await t.client.send(new CreateAttendeeCommand({ MeetingId: meetingId, ExternalUserId: 'ann' }))).Attendee!;
    const b = (await t.client.send(new CreateAttendeeCommand({ MeetingId: meetingId, ExternalUserId: 'ben' }))).Attendee!;
    const ann = await SignalClient.connect(signalingUrl(Meeting!), { token: a.JoinToken! });
    await ann.join();
    const ben = await SignalClient.connect(signalingUrl(Meeting!), { token: b.JoinToken! });
    await ben.join();
    const benContent = await SignalClient.connect(signalingUrl(Meeting!), { token: `${b.JoinToken!}#content` });
    await benContent.join();
    await t.client.send(new DeleteAttendeeCommand({ MeetingId: meetingId, AttendeeId: b.AttendeeId }));
    await t.client.send(new DeleteMeetingCommand({ MeetingId: meetingId }));
    await eventually(() => expect(summary(receiver.events, meetingId).at(-1)).toBe('MeetingEnded'), 10_000, 50);
    const A = a.AttendeeId!;
    const B = b.AttendeeId!;
    expect(summary(receiver.events, meetingId).slice(3)).toEqual([
      `AttendeeAuthorized ${A}`,
      `AttendeeJoined ${A}`,
      `AttendeeAuthorized ${B}`,
      `AttendeeJoined ${B}`,
      `AttendeeAuthorized ${B}#content`,
      `AttendeeContentJoined ${B}#content`,
      `AttendeeLeft ${B}`,
      `AttendeeContentLeft ${B}#content`,
      `AttendeeDeleted ${B}`,
      `AttendeeLeft ${A}`,
      `AttendeeDeleted ${A}`,
      'MeetingEnded',
    ]);
    await Promise.all([ann, ben, benContent].map((c) => c.close()));
  });

  it('refuses GET /events without valid credentials, with the AWS error shape', async () => {
    const cases: [string, Record<string, string>][] = [
      ['unsigned', {}],
      ['wrong bearer', { Authorization: `Bearer ${deriveBearerToken({ accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' })}` }],
      ['garbage bearer', { Authorization: 'Bearer <script>' }],
      ['wrong SigV4 key', await sigV4Headers(t.server.url, { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' })],
    ];
    for (const [label, headers] of cases) {
      const client = await EventStreamClient.open(t.server.url, headers);
      expect([label, client.status]).toEqual([label, 403]);
      expect(JSON.parse(client.body)).toMatchObject({ Code: 'Forbidden' });
    }
    const post = await fetch(`${t.server.url}/events`, { method: 'POST', headers: { Authorization: `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}` } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    // The desktop renderer's preflight, and its origin on the refusal.
    const preflight = await fetch(`${t.server.url}/events`, { method: 'OPTIONS', headers: { Origin: 'app://chorus', 'Access-Control-Request-Headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('app://chorus');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const refused = await fetch(`${t.server.url}/events`, { headers: { Origin: 'app://chorus' } });
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([403, 'app://chorus']);
    const foreign = await fetch(`${t.server.url}/events`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect([foreign.status, foreign.headers.get('access-control-allow-origin')]).toEqual([405, null]);
    // The server is unharmed.
    expect((await fetch(`${t.server.url}/health`)).status).toBe(200);
  });

  it('gives a stream that reconnects with Last-Event-ID the events it missed', async () => {
    const auth = { Authorization: `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}` };
    const first = await EventStreamClient.open(t.server.url, auth);
    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'events-resume' }));
    const meetingId = Meeting!.MeetingId!;
    await eventually(() => expect(summary(first.events, meetingId)).toEqual(['MeetingStarted']), 5_000, 50);
    first.close();
    await t.client.send(new CreateAttendeeCommand({ MeetingId: meetingId, ExternalUserId: 'late' }));
    await t.client.send(new DeleteMeetingCommand({ MeetingId: meetingId }));
    const resumed = await EventStreamClient.open(t.server.url, { ...auth, 'Last-Event-ID': first.events.at(-1)!.id });
    await eventually(() => expect(summary(resumed.events, meetingId).map((s) => s.split(' ')[0])).toEqual(['AttendeeAdded', 'AttendeeDeleted', 'MeetingEnded']), 5_000, 50);
    resumed.close();
  });

  it('fails to start with STARTUP_FAILED when the webhook outbox cannot be opened', async () => {
    const dataDir = await makeTempDir();
    await writeFile(join(dataDir, 'event-outbox'), 'not a directory');
    const env = { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
    const logger = createLogger({ level: 'error', write: () => undefined });
    await expect(startChorusServer({ host: '127.0.0.1', port: 0, dataDir, webhookUrls: ['http://127.0.0.1:9/x'] }, { env, logger }))
      .rejects.toMatchObject({ code: 'STARTUP_FAILED', message: expect.stringContaining('webhook outbox') });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('retries a failing receiver with the same event id and body until it accepts', async () => {
    // Earlier tests' events must be out first, or the first event to succeed after the failures would be one of theirs.
    await eventually(() => expect(t.server.events.webhooks[0]!.stats.pending).toBe(0), 5_000, 50);
    receiver.failWith = 503;
    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'events-retry' }));
    await new Promise((r) => setTimeout(r, 400));
    expect(receiver.events.some((e) => e.detail.meetingId === Meeting!.MeetingId)).toBe(false);
    receiver.failWith = undefined;
    await eventually(() => expect(summary(receiver.events, Meeting!.MeetingId!)).toEqual(['MeetingStarted']), 5_000, 50);
    const delivery = receiver.deliveries.find((d) => d.event.detail.meetingId === Meeting!.MeetingId)!;
    expect(delivery.attempt).toBeGreaterThan(1);
    expect(delivery.signatureValid).toBe(true);
    await t.client.send(new DeleteMeetingCommand({ MeetingId: Meeting!.MeetingId }));
  });
});
