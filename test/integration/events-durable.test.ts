import { CreateAttendeeCommand, CreateMeetingCommand, DeleteAttendeeCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SdkSignalFrame_Type as T } from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { chimeClient, makeTempDir, TEST_CREDENTIALS } from '../helpers/server.js';
import { killGroup, spawnServer, waitForLine, type ServerProcess } from '../helpers/server-process.js';
import { signalingUrl, SignalClient } from '../helpers/signaling-client.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The durable outbox across real server processes: the receiver is down while
 * one server is killed outright and a second is shut down; a third, started on
 * the same data directory, delivers every event once the receiver is back, each
 * id always with the same bytes.
 */

const SECRET = 'durable-test-webhook-secret-0123456789';
const running: ServerProcess[] = [];
let dataDir = '';
let receiver: WebhookReceiver | undefined;

afterAll(async () => {
  for (const s of running) killGroup(s.proc, 'SIGKILL');
  await receiver?.down();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ServerProcess> {
  const server = await spawnServer(
    ['--port', '0', '--udp-port', '0', '--ice-host', '127.0.0.1', '--data-dir', dataDir, '--webhook-url', receiver!.url, '--webhook-max-backoff', '1'],
    { env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, CHORUS_WEBHOOK_SECRET: SECRET } },
  );
  running.push(server);
  return server;
}

const summary = (r: WebhookReceiver, meetingId: string): string[] =>
  r.events.filter((e) => e.detail.meetingId === meetingId).map((e) => e.detail.eventType.slice(6) + (e.detail.attendeeId ? ` ${e.detail.externalUserId}` : ''));

describe('durable webhook outbox', () => {
  it('loses no event while the receiver is down across a killed and a restarted server', async () => {
    dataDir = await makeTempDir('chorus-outbox-');
    receiver = await WebhookReceiver.start(SECRET);
    await receiver.down();

    // First server: a meeting with a join and a leave, then killed without any chance to clean up.
    const first = await start();
    const line = await waitForLine(first, /Webhooks to/);
    expect(line).toContain('signing secret from CHORUS_WEBHOOK_SECRET');
    expect(line).not.toContain(SECRET);
    const api1 = chimeClient(first.url);
    const { Meeting: m1 } = await api1.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'durable-1' }));
    const { Attendee: a } = await api1.send(new CreateAttendeeCommand({ MeetingId: m1!.MeetingId, ExternalUserId: 'ann' }));
    const { Attendee: b } = await api1.send(new CreateAttendeeCommand({ MeetingId: m1!.MeetingId, ExternalUserId: 'ben' }));
    const ann = await SignalClient.connect(signalingUrl(m1!), { token: a!.JoinToken! });
    await ann.join();
    ann.send({ type: T.LEAVE, leave: {} });
    await ann.frame(T.LEAVE_ACK);
    await api1.send(new DeleteAttendeeCommand({ MeetingId: m1!.MeetingId, AttendeeId: b!.AttendeeId }));
    api1.destroy();
    killGroup(first.proc, 'SIGKILL');
    await first.exited;

    // Second server, same data directory, receiver still down: a meeting that its shutdown ends, with the first one.
    const second = await start();
    const api2 = chimeClient(second.url);
    const { Meeting: m2 } = await api2.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'durable-2' }));
    await api2.send(new CreateAttendeeCommand({ MeetingId: m2!.MeetingId, ExternalUserId: 'cat' }));
    api2.destroy();
    expect(await second.stop('SIGTERM')).toBe(0);

    // Third server; the receiver comes back a little later.
    await start();
    await new Promise((r) => setTimeout(r, 300));
    await receiver.up();
    await eventually(() => {
      expect(summary(receiver!, m1!.MeetingId!)).toEqual([
        'MeetingStarted',
        'AttendeeAdded ann',
        'AttendeeAdded ben',
        'AttendeeAuthorized ann',
        'AttendeeJoined ann',
        'AttendeeLeft ann',
        'AttendeeDeleted ben',
        // The killed server's meeting survived in its data directory; the second server's shutdown ended it.
        'AttendeeDeleted ann',
        'MeetingEnded',
      ]);
      expect(summary(receiver!, m2!.MeetingId!)).toEqual(['MeetingStarted', 'AttendeeAdded cat', 'AttendeeDeleted cat', 'MeetingEnded']);
    }, 20_000, 100);

    expect(receiver.deliveries.every((d) => d.signatureValid)).toBe(true);
    // At least once: an id may come again, but always as the very same event.
    const bodies = new Map<string, Set<string>>();
    for (const d of receiver.deliveries) bodies.set(d.id, (bodies.get(d.id) ?? new Set()).add(d.body));
    expect([...bodies.values()].every((set) => set.size === 1)).toBe(true);
    expect(bodies.size).toBe(13);
  }, 90_000);
});
