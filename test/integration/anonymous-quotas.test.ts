import { CreateMeetingCommand, GetAttendeeCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { SignalClient, signalingUrl } from '../helpers/signaling-client.js';
import type { ChorusServerConfig } from '../../src-main/server/chorus-server.js';

/**
 * Issue 14 item 4, over real HTTP: what anyone can do without credentials must not
 * fill a meeting, lock out its host, or use up the server's meetings. Other
 * loopback addresses (127.0.0.2, …) stand in for other machines.
 */

const bearer = `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}`;
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(config: Partial<ChorusServerConfig> = {}): Promise<TestServer> {
  const t = await startTestServer({ iceHost: '127.0.0.1', udpPort: 0, ...config });
  servers.push(t);
  return t;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function call(t: TestServer, method: string, path: string, body: unknown, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(t.server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path, method, localAddress: options.from ?? '127.0.0.1', agent: false,
      headers: { ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}), ...options.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const tally = (replies: Reply[]) => {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const key = `${r.status}${r.status === 200 ? '' : ` ${String(r.headers['x-amzn-errortype'])}`}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

async function openMeeting(t: TestServer): Promise<{ meetingCode: string; hostKey: string; meetingId: string }> {
  const reply = await call(t, 'POST', '/app/api/meetings', { name: 'Open house' }, { headers: { Authorization: bearer } });
  expect(reply.status).toBe(201);
  return reply.body as { meetingCode: string; hostKey: string; meetingId: string };
}
const join = (t: TestServer, code: string, body: Record<string, unknown>, from?: string) =>
  call(t, 'POST', `/app/api/meetings/${code}/join`, { displayName: 'Anon', ...body }, { from });

describe('anonymous quotas', () => {
  it('anonymous joins are rate-limited per address, cannot take the places kept for the host, and the host key always gets in', async () => {
    const t = await server();
    const { meetingCode, hostKey } = await openMeeting(t);
    const started = Date.now();
    // One address, 60 joins at once.
    const burst = await Promise.all(Array.from({ length: 60 }, () => join(t, meetingCode, {}, '127.0.0.2')));
    console.log(`[anonymous] 60 joins at once from one address: ${JSON.stringify(tally(burst))}`);
    expect(burst.filter((r) => r.status === 200).length).toBeLessThanOrEqual(30);
    const throttled = burst.find((r) => r.status === 429)!;
    expect(throttled.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // Ten more addresses, 30 joins each: the meeting fills up to its guest places only.
    const crowd = (await Promise.all(Array.from({ length: 10 }, (_, a) =>
      Promise.all(Array.from({ length: 30 }, () => join(t, meetingCode, {}, `127.0.0.${10 + a}`)))))).flat();
    const admitted = [...burst, ...crowd].filter((r) => r.status === 200).length;
    console.log(`[anonymous] then 300 from ten addresses: ${JSON.stringify(tally(crowd))}; admitted in all ${admitted} in ${Date.now() - started} ms`);
    expect(admitted).toBeLessThanOrEqual(245);
    const full = crowd.find((r) => r.status === 400)!;
    expect(full.headers['x-amzn-errortype']).toBe('LimitExceededException');
    expect(String(full.body.Message)).toMatch(/full/);

    const host = await join(t, meetingCode, { displayName: 'Host', hostKey }, '127.0.0.2');
    expect(host.status, JSON.stringify(host.body)).toBe(200);
    expect(host.body.isHost).toBe(true);
  }, 60_000);

  it('an app attendee is released when it leaves, or when it never connects', async () => {
    const t = await server({ appLimits: { releaseAfterMs: 1_000 } });
    const { meetingCode, meetingId } = await openMeeting(t);
    const leaver = (await join(t, meetingCode, {})).body as { Meeting: { MediaPlacement: { SignalingUrl: string } }; Attendee: { AttendeeId: string; JoinToken: string } };
    const stayer = (await join(t, meetingCode, {})).body as typeof leaver;
    const absent = (await join(t, meetingCode, {})).body as typeof leaver;
    const exists = async (attendeeId: string) => t.client.send(new GetAttendeeCommand({ MeetingId: meetingId, AttendeeId: attendeeId })).then(() => true, () => false);

    const leaving = await SignalClient.connect(signalingUrl(leaver.Meeting), { token: leaver.Attendee.JoinToken });
    await leaving.join();
    const staying = await SignalClient.connect(signalingUrl(stayer.Meeting), { token: stayer.Attendee.JoinToken });
    await staying.join();
    leaving.send({ type: SdkSignalFrame_Type.LEAVE, leave: {} });
    await leaving.closed();
    // LEAVE frees the place at once; one that never connected goes after releaseAfterMs; a connected one stays.
    await eventually(async () => expect(await exists(leaver.Attendee.AttendeeId)).toBe(false), 1_000, 50);
    await eventually(async () => expect(await exists(absent.Attendee.AttendeeId)).toBe(false), 5_000, 100);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await exists(stayer.Attendee.AttendeeId)).toBe(true);
    expect(staying.isOpen).toBe(true);
    await staying.close();
  }, 60_000);

  it('with --allow-web-hosting, anonymous hosts are limited per address and by their own quota, which never blocks the API', async () => {
    const t = await server({ allowWebHosting: true, maxActiveMeetings: 5, maxWebHostedMeetings: 4 });
    const host = (from: string) => call(t, 'POST', '/app/api/meetings', { name: 'Mine' }, { from });
    const oneAddress = [];
    for (let i = 0; i < 5; i++) oneAddress.push(await host('127.0.0.2'));
    const many = await Promise.all(Array.from({ length: 6 }, (_, a) => host(`127.0.0.${30 + a}`)));
    console.log(`[anonymous] web hosting: 5 from one address ${JSON.stringify(tally(oneAddress))}; then one each from 6 addresses ${JSON.stringify(tally(many))}`);
    expect(oneAddress.filter((r) => r.status === 201)).toHaveLength(3);
    expect(oneAddress.at(-1)!.status).toBe(429);
    expect([...oneAddress, ...many].filter((r) => r.status === 201)).toHaveLength(4);
    expect(many.find((r) => r.status === 400)?.headers['x-amzn-errortype']).toBe('LimitExceededException');
    // The API still has all of its five meetings, and the bearer token its app meetings among them.
    const api = [];
    for (let i = 0; i < 4; i++) api.push(await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: `api-${i}` })).then(() => 'ok', (e: Error) => e.name));
    const app = await call(t, 'POST', '/app/api/meetings', { name: 'Owner' }, { headers: { Authorization: bearer } });
    console.log(`[anonymous] then the API: ${api.join(', ')}; the bearer token's app meeting ${app.status}`);
    expect(api).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(app.status).toBe(201);
  }, 60_000);
});
