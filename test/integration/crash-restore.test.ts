import { CreateAttendeeCommand, DeleteAttendeeCommand, DeleteMeetingCommand, GetAttendeeCommand, GetMeetingCommand, ListAttendeesCommand, type Attendee, type Meeting } from '@aws-sdk/client-chime-sdk-meetings';
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SdkSignalFrame_Type as T } from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { chimeClient, makeTempDir, TEST_CREDENTIALS } from '../helpers/server.js';
import { killGroup, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { signalingUrl, SignalClient } from '../helpers/signaling-client.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * A server killed outright (`kill -9`) mid-meeting and started again on the same
 * port and data directory: the meeting is still there, both attendees reconnect
 * as the SDK does (same join token, same audio_session_id) under the same
 * attendee ids, media flows again within 10 s, and webhook receivers are told
 * neither that they left nor that they were deleted.
 */

const SECRET = 'crash-test-webhook-secret-0123456789';
/** The server as `npm run server` runs it, bundled, so a restart costs what it costs users (not the TypeScript loader's start). */
const BUNDLE_DIR = 'dist/crash-test';
const SERVER = [process.execPath, `${BUNDLE_DIR}/cli.js`];
const running: ServerProcess[] = [];
const clients: HeadlessClient[] = [];
let dataDir = '';
let receiver: WebhookReceiver | undefined;

beforeAll(async () => {
  // Its own file: other tests rebuild dist/server while this one runs. External packages resolve from the checkout.
  await build({ entryPoints: ['src-main/server/cli.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: `${BUNDLE_DIR}/cli.js`, logLevel: 'warning' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of running) killGroup(s.proc, 'SIGKILL');
  await Promise.all(running.map((s) => s.exited));
  await receiver?.down();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await rm(BUNDLE_DIR, { recursive: true, force: true });
});

async function start(port: number): Promise<ServerProcess> {
  const server = await spawnServer(
    ['--port', String(port), '--ice-host', '127.0.0.1', '--data-dir', dataDir, '--webhook-url', receiver!.url, '--webhook-max-backoff', '1'],
    { command: SERVER, env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, CHORUS_WEBHOOK_SECRET: SECRET } },
  );
  running.push(server);
  return server;
}

const options = (audioSessionId: bigint) => ({ publishVideo: true, packetsPerSecond: 30, receiveSlots: 1, toneHz: 440, audioSessionId });

/** Joins, then subscribes to the other attendee's camera once it is in the INDEX. */
async function joinAndWatch(meeting: Meeting, attendee: Attendee, audioSessionId: bigint): Promise<HeadlessClient> {
  const client = await HeadlessClient.join(meeting, attendee, options(audioSessionId));
  clients.push(client);
  return client;
}

async function watchOther(client: HeadlessClient, meeting: Meeting, self: Attendee): Promise<void> {
  const sources = await eventually(() => {
    const ids = client.latestSources(self.AttendeeId);
    expect(ids).toHaveLength(1);
    return ids;
  }, 5_000, 50);
  await client.subscribe(meeting.MediaPlacement!.AudioHostUrl!, sources);
}

/** Video and mixed audio both arrive at `client` from now on. */
async function mediaFlows(client: HeadlessClient, timeoutMs: number): Promise<void> {
  const video = client.received.get('2') ?? 0;
  const audio = client.audioPackets;
  await eventually(() => {
    expect(client.received.get('2') ?? 0).toBeGreaterThan(video + 10);
    expect(client.audioPackets).toBeGreaterThan(audio + 10);
  }, timeoutMs, 50);
}

/** Attendee ids in the presence (AUDIO_STREAM_ID_INFO) frames a client has received. */
const presentIds = (client: HeadlessClient): Set<string> =>
  new Set(client.frames.filter((f) => f.type === T.AUDIO_STREAM_ID_INFO).flatMap((f) => f.audioStreamIdInfo!.streams.map((s) => s.attendeeId)).filter(Boolean));

describe('a server killed with SIGKILL and restarted on the same port and data directory', () => {
  it('keeps the meeting: both attendees rejoin with the same ids, media resumes within 10 s, no leave or deletion is reported', async () => {
    dataDir = await makeTempDir('chorus-crash-');
    receiver = await WebhookReceiver.start(SECRET);
    const first = await start(0);
    const port = Number(new URL(first.url).port);
    const api = chimeClient(first.url);
    const { meeting, attendees } = await createMeetingWithAttendees(api, 'crash-test', ['ann', 'ben']);
    const [ann, ben] = attendees as [Attendee, Attendee];
    const sessions = [7001n, 7002n];

    const a1 = await joinAndWatch(meeting, ann, sessions[0]!);
    const b1 = await joinAndWatch(meeting, ben, sessions[1]!);
    await watchOther(a1, meeting, ann);
    await watchOther(b1, meeting, ben);
    await mediaFlows(a1, 10_000);
    await mediaFlows(b1, 10_000);
    await eventually(() => expect(receiver!.events.filter((e) => e.detail.eventType === 'chime:AttendeeJoined')).toHaveLength(2), 5_000, 50);

    const killedAt = Date.now();
    killGroup(first.proc, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await Promise.all([a1.close(), b1.close()]);

    const second = await start(port);
    const listeningAfterMs = Date.now() - killedAt;
    expect(second.url).toBe(first.url);
    // The SDK's reconnect: a new connection with the same join token and the same audio_session_id.
    const [a2, b2] = await Promise.all([joinAndWatch(meeting, ann, sessions[0]!), joinAndWatch(meeting, ben, sessions[1]!)]);
    await Promise.all([watchOther(a2, meeting, ann), watchOther(b2, meeting, ben)]);
    await Promise.all([mediaFlows(a2, 10_000), mediaFlows(b2, 10_000)]);
    const backAfterMs = Date.now() - killedAt;
    console.log(`crash test: server listening again ${listeningAfterMs} ms after the kill; both attendees back with media ${backAfterMs} ms after it`);
    expect(backAfterMs).toBeLessThan(10_000);

    // The same meeting and attendee ids, for the API and in the meeting itself.
    const api2 = chimeClient(second.url);
    expect((await api2.send(new GetMeetingCommand({ MeetingId: meeting.MeetingId }))).Meeting?.MeetingId).toBe(meeting.MeetingId);
    expect((await api2.send(new GetAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: ben.AttendeeId }))).Attendee?.ExternalUserId).toBe('ben');
    expect(presentIds(a2)).toEqual(new Set([ann.AttendeeId, ben.AttendeeId]));
    expect(presentIds(b2)).toEqual(new Set([ann.AttendeeId, ben.AttendeeId]));
    // CreateAttendee still counts against the same meeting, and a new attendee can join it.
    const { Attendee: cat } = await api2.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: 'cat' }));
    expect(cat?.JoinToken).toBeTruthy();

    // Give the webhooks time to arrive: a second join, a leave, a drop or a deletion would be there by now.
    await new Promise((r) => setTimeout(r, 1500));
    const story = receiver.events.filter((e) => e.detail.meetingId === meeting.MeetingId).map((e) => `${e.detail.eventType.slice(6)} ${e.detail.externalUserId ?? ''}`.trim());
    expect(story.filter((s) => /^Attendee(Left|Dropped|Deleted|VideoStopped)/.test(s))).toEqual([]);
    expect(story.filter((s) => s.startsWith('AttendeeJoined')).sort()).toEqual(['AttendeeJoined ann', 'AttendeeJoined ben']);
    expect(story).not.toContain('MeetingEnded');
    api.destroy();
    api2.destroy();

    // A deliberate stop still ends the meeting, with the whole story told (delivered from the outbox by the next run).
    await Promise.all([a2.close(), b2.close()]);
    expect(await second.stop('SIGTERM')).toBe(0);
    const third = await start(port);
    const api3 = chimeClient(third.url);
    await expect(api3.send(new GetMeetingCommand({ MeetingId: meeting.MeetingId }))).rejects.toThrow(/not found/);
    api3.destroy();
    await eventually(() => {
      const after = receiver!.events.filter((e) => e.detail.meetingId === meeting.MeetingId).map((e) => e.detail.eventType.slice(6));
      expect(after.at(-1)).toBe('MeetingEnded');
      expect(after.filter((t) => t === 'AttendeeDeleted')).toHaveLength(3);
    }, 10_000, 100);
  }, 90_000);
});

describe('the state database under kill -9 mid-write', () => {
  it('loses no acknowledged create or delete, and opens cleanly after the crash', async () => {
    const dir = await makeTempDir('chorus-crash-writes-');
    try {
      const env = { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey };
      const first = await spawnServer(['--port', '0', '--data-dir', dir], { command: SERVER, env });
      running.push(first);
      const api = chimeClient(first.url);
      const { meeting } = await createMeetingWithAttendees(api, 'write-crash', []);
      const { meeting: ended, attendees: [late] } = await createMeetingWithAttendees(api, 'ended-before-crash', ['late-comer']);
      await api.send(new DeleteMeetingCommand({ MeetingId: ended.MeetingId }));
      const created: Attendee[] = [];
      const deleted: string[] = [];
      /** Deletions asked for and not answered: the kill can land after the server did them, before it answered. */
      const deleting = new Set<string>();
      let stop = false;
      // Eight writers, each creating attendees and deleting every third one it created, until the kill.
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; !stop && i < 30; i++) {
          try {
            const { Attendee: a } = await api.send(new CreateAttendeeCommand({ MeetingId: meeting.MeetingId, ExternalUserId: `w${w}-${i}` }));
            created.push(a!);
            if (i % 3 === 2) {
              deleting.add(a!.AttendeeId!);
              await api.send(new DeleteAttendeeCommand({ MeetingId: meeting.MeetingId, AttendeeId: a!.AttendeeId }));
              deleting.delete(a!.AttendeeId!);
              deleted.push(a!.AttendeeId!);
            }
          } catch {
            return; // the server died under this request: it was never acknowledged
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await eventually(() => expect(created.length).toBeGreaterThan(60), 20_000, 5);
      killGroup(first.proc, 'SIGKILL');
      stop = true;
      await Promise.all(writers);
      await first.exited;
      api.destroy();

      const second = await spawnServer(['--port', '0', '--data-dir', dir], { command: SERVER, env });
      running.push(second);
      const api2 = chimeClient(second.url);
      const listed = new Set<string>();
      let nextToken: string | undefined;
      do {
        const page = await api2.send(new ListAttendeesCommand({ MeetingId: meeting.MeetingId, NextToken: nextToken }));
        for (const a of page.Attendees ?? []) listed.add(a.AttendeeId!);
        nextToken = page.NextToken;
      } while (nextToken);
      // Created and never asked to be deleted (one whose deletion was cut by the kill may be either way).
      const kept = created.filter((a) => !deleted.includes(a.AttendeeId!) && !deleting.has(a.AttendeeId!));
      for (const a of kept) expect(listed.has(a.AttendeeId!), `attendee ${a.ExternalUserId} was acknowledged`).toBe(true);
      for (const id of deleted) expect(listed.has(id), `deletion of ${id} was acknowledged`).toBe(false);
      // At most the requests in flight at the kill went through unacknowledged.
      expect(listed.size - kept.length).toBeLessThanOrEqual(8);
      // A token issued before the crash still joins, at the placement of the new run (another port).
      const sample = kept[0]!;
      const { Meeting: now } = await api2.send(new GetMeetingCommand({ MeetingId: meeting.MeetingId }));
      expect(now!.MediaPlacement!.SignalingUrl).toContain(new URL(second.url).host);
      const client = await SignalClient.connect(signalingUrl(now!), { token: sample.JoinToken! });
      await client.join();
      await client.close();
      // A meeting that ended before the crash is still known as ended: its clients hear 4410, not "invalid token".
      const tooLate = await SignalClient.connect(signalingUrl(now!).replace(meeting.MeetingId!, ended.MeetingId!), { token: late!.JoinToken! });
      await eventually(() => expect(tooLate.closeInfo).toEqual({ code: 4410, reason: 'The meeting has ended' }), 3_000, 20);
      api2.destroy();
      killGroup(second.proc, 'SIGKILL');
      await second.exited;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
