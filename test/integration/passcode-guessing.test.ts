import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';

/**
 * Issue 14 item 1, over real HTTP: guesses sent at once are counted before their
 * slow hash, and guessing from other addresses cannot lock out people who know
 * the passcode. Other loopback addresses (127.0.0.2, …) stand in for other machines.
 */

let t: TestServer;
const bearer = `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}`;
const PASSCODE = 'correct-horse';

beforeAll(async () => {
  // Joins per address are limited too (anonymous-quotas.test.ts); here only the passcode limits are looked at.
  t = await startTestServer({ appLimits: { joinsPerAddress: 1000 } });
});
afterAll(async () => {
  await t?.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request from a chosen local address (the server sees it as the client's address). */
function call(method: string, path: string, body: unknown, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(t.server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      method,
      localAddress: options.from ?? '127.0.0.1',
      agent: false,
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

async function createMeeting(body: Record<string, unknown>): Promise<{ meetingCode: string; hostKey: string }> {
  const reply = await call('POST', '/app/api/meetings', body, { headers: { Authorization: bearer } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as { meetingCode: string; hostKey: string };
}

const join = (code: string, body: Record<string, unknown>, from?: string) => call('POST', `/app/api/meetings/${code}/join`, { displayName: 'Guest', ...body }, { from });
const tally = (replies: Reply[]) => {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const key = `${r.status} ${String(r.body.Reason ?? r.headers['x-amzn-errortype'] ?? '')}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

describe('passcode guessing', () => {
  it('counts guesses sent at once before their hash: of 100 concurrent guesses from one address at most 10 are checked', async () => {
    const { meetingCode } = await createMeeting({ name: 'Vault', passcode: PASSCODE });
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => join(meetingCode, { passcode: `guess-${String(i).padStart(4, '0')}` }, '127.0.0.2')));
    const checked = replies.filter((r) => r.body.Reason === 'passcode-wrong').length;
    const throttled = replies.filter((r) => r.status === 429);
    console.log(`[passcode] 100 concurrent guesses from one address in ${Date.now() - started} ms: ${JSON.stringify(tally(replies))}`);
    expect(checked).toBeLessThanOrEqual(10);
    expect(checked + throttled.length).toBe(100);
    // Clear, Chime-style refusals that say when to come back.
    expect(throttled[0]!.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(Number(throttled[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(String(throttled[0]!.body.Message)).toMatch(/passcode/);
    // One by one, the address gets the rest of its ten checks, then waits; so does its right passcode.
    const more: Reply[] = [];
    for (let i = 0; i < 15; i++) more.push(await join(meetingCode, { passcode: `more-${i}` }, '127.0.0.2'));
    console.log(`[passcode] then 15 one by one: ${JSON.stringify(tally(more))}`);
    expect(checked + more.filter((r) => r.body.Reason === 'passcode-wrong').length).toBe(10);
    expect((await join(meetingCode, { passcode: PASSCODE }, '127.0.0.2')).status).toBe(429);
    expect((await call('GET', '/health', undefined)).status).toBe(200);
  }, 60_000);

  it('guesses from many addresses lock out newcomers at most, never an address or device that got in before; the host key always gets in', async () => {
    const { meetingCode, hostKey } = await createMeeting({ name: 'Standup', passcode: PASSCODE });
    const deviceId = 'device-of-the-regular-0001';
    expect((await join(meetingCode, { passcode: PASSCODE, deviceId }, '127.0.0.1')).status).toBe(200);

    // Six attacking addresses, ten wrong guesses each, one at a time per address: 60 failures, past the meeting's 50.
    await Promise.all([3, 4, 5, 6, 7, 8].map(async (a) => {
      for (let i = 0; i < 10; i++) await join(meetingCode, { passcode: `wrong-${a}-${i}` }, `127.0.0.${a}`);
    }));
    const newcomer = await join(meetingCode, { passcode: PASSCODE }, '127.0.0.20');
    const regular = await join(meetingCode, { passcode: PASSCODE }, '127.0.0.1');
    const regularElsewhere = await join(meetingCode, { passcode: PASSCODE, deviceId }, '127.0.0.21');
    const host = await join(meetingCode, { hostKey }, '127.0.0.3');
    console.log(`[passcode] after 60 wrong guesses from 6 addresses: newcomer ${newcomer.status}, the regular's address ${regular.status}, the regular's device elsewhere ${regularElsewhere.status}, host key from an attacking address ${host.status}`);
    expect(newcomer.status).toBe(429);
    expect(regular.status).toBe(200);
    expect(regularElsewhere.status).toBe(200);
    expect(host.status).toBe(200);
  }, 60_000);

  it('a crowd joining at once with the right passcode waits its turn for the hash rather than being refused', async () => {
    const { meetingCode } = await createMeeting({ name: 'All hands', passcode: PASSCODE });
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 16 }, (_, a) => join(meetingCode, { passcode: PASSCODE }, `127.0.1.${a + 1}`)));
    console.log(`[passcode] 16 people with the right passcode at once, from 16 addresses (8 hashes at a time): ${JSON.stringify(tally(replies))} in ${Date.now() - started} ms`);
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
  }, 60_000);

  it('meetings are listed to anyone by default, so their passcodes need 8 characters; --unlisted hides them from all but the bearer token', async () => {
    const short = await call('POST', '/app/api/meetings', { name: 'Short', passcode: 'abcd' }, { headers: { Authorization: bearer } });
    expect(short.status).toBe(400);
    expect(short.headers['x-amzn-errortype']).toBe('BadRequestException');
    expect(String(short.body.Message)).toMatch(/at least 8 characters.*--unlisted/);
    expect((await call('GET', '/app/api/server', undefined)).body.listed).toBe(true);

    const hidden = await startTestServer({ unlisted: true });
    try {
      const url = hidden.server.url;
      const created = await fetch(`${url}/app/api/meetings`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: bearer }, body: JSON.stringify({ name: 'Quiet', passcode: 'abcd' }) });
      expect(created.status).toBe(201);
      const anyone = (await fetch(`${url}/app/api/meetings`).then((r) => r.json())) as { meetings: unknown[] };
      const owner = (await fetch(`${url}/app/api/meetings`, { headers: { Authorization: bearer } }).then((r) => r.json())) as { meetings: unknown[] };
      expect(anyone.meetings).toEqual([]);
      expect(owner.meetings).toHaveLength(1);
      expect(((await fetch(`${url}/app/api/server`).then((r) => r.json())) as { listed: boolean }).listed).toBe(false);
    } finally {
      await hidden.close();
    }
  }, 60_000);
});
