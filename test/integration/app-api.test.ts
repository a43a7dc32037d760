import { GetAttendeeCommand, GetMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { request } from 'node:http';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { CONTENT_SECURITY_POLICY } from '../../src-main/server/http/static-files.js';
import { AppApiError, createAppApi, type JoinInfo } from '../../src-renderer/src/api/app-api.js';
import { eventually } from '../helpers/eventually.js';
import { spawnServer } from '../helpers/server-process.js';
import { makeTempDir, startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';

let t: TestServer;
let rendererDir: string;
let staticRoot: string | undefined;
const bearer = `Bearer ${deriveBearerToken(TEST_CREDENTIALS)}`;

beforeAll(async () => {
  // A stand-in renderer build next to a file that must never be served.
  const root = await makeTempDir('chorus-static-');
  staticRoot = root;
  rendererDir = join(root, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(rendererDir, 'assets', 'app-123.js'), 'console.log(1)');
  await writeFile(join(root, 'secret.txt'), 'TOP-SECRET');
  t = await startTestServer({ rendererDir });
});
afterAll(async () => {
  await t?.close();
  if (staticRoot) await rm(staticRoot, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function api(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(`${t.server.url}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function expectError(reply: Reply, status: number, exception: string): void {
  expect({ status: reply.status, type: reply.headers.get('x-amzn-errortype') }).toEqual({ status, type: exception });
  expect(typeof reply.body.Message).toBe('string');
  expect(typeof reply.body.Code).toBe('string');
}

async function createMeeting(body: Record<string, unknown>) {
  const reply = await api('POST', '/app/api/meetings', { body, headers: { Authorization: bearer } });
  expect(reply.status).toBe(201);
  return reply.body as { meetingCode: string; meetingId: string; name: string; passcodeRequired: boolean; hostKey: string };
}

/** Raw HTTP, because fetch() would normalise the dot segments a traversal attempt depends on. */
function rawGet(path: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(t.server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('app API over HTTP', () => {
  it('describes the server', async () => {
    const reply = await api('GET', '/app/api/server');
    expect(reply.status).toBe(200);
    expect(reply.body.version).toBe('0.1.0');
    expect(reply.body.urls).toContain(t.server.url);
    expect(typeof reply.body.name).toBe('string');
    expect(reply.body.fingerprint).toBeUndefined();
    expect(reply.body.webHosting).toBe(false);
  });

  it('--allow-web-hosting lets a browser create meetings without the token, but still refuses a wrong token', async () => {
    const open = await startTestServer({ allowWebHosting: true, rendererDir });
    try {
      const info = await fetch(`${open.server.url}/app/api/server`).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(info.webHosting).toBe(true);
      const created = await fetch(`${open.server.url}/app/api/meetings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'From a browser' }) });
      expect(created.status).toBe(201);
      expect(((await created.json()) as { hostKey: string }).hostKey).toBeTruthy();
      const wrong = await fetch(`${open.server.url}/app/api/meetings`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer chorus1.nope' }, body: JSON.stringify({ name: 'x' }) });
      expect(wrong.status).toBe(403);
    } finally {
      await open.close();
    }
  });

  it('creates meetings only with the bearer token derived from the credentials', async () => {
    expectError(await api('POST', '/app/api/meetings', { body: { name: 'x' } }), 403, 'ForbiddenException');
    expectError(await api('POST', '/app/api/meetings', { body: { name: 'x' }, headers: { Authorization: 'Bearer chorus1.wrong' } }), 403, 'ForbiddenException');
    expectError(await api('POST', '/app/api/meetings', { body: { name: '' }, headers: { Authorization: bearer } }), 400, 'BadRequestException');
    expectError(await api('POST', '/app/api/meetings', { body: { name: 'ok', passcode: '123' }, headers: { Authorization: bearer } }), 400, 'BadRequestException');
    expectError(await api('POST', '/app/api/meetings', { body: '{"name":', headers: { Authorization: bearer } }), 400, 'BadRequestException');

    const created = await createMeeting({ name: 'Design review', passcode: 'open sesame' });
    expect(created.meetingCode).toMatch(/^[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    expect(created).toMatchObject({ name: 'Design review', passcodeRequired: true });
    expect(created.hostKey.length).toBeGreaterThanOrEqual(40);
    // It is a real Chime meeting.
    const { Meeting } = await t.client.send(new GetMeetingCommand({ MeetingId: created.meetingId }));
    expect(Meeting?.MeetingId).toBe(created.meetingId);

    const list = await api('GET', '/app/api/meetings');
    const entry = (list.body.meetings as Record<string, unknown>[]).find((m) => m.meetingCode === created.meetingCode);
    expect(entry).toMatchObject({ name: 'Design review', attendees: 0, passcodeRequired: true });
    expect(JSON.stringify(list.body)).not.toContain(created.hostKey);
    expect(JSON.stringify(list.body)).not.toContain('open sesame');
  });

  it('joins with the passcode; a wrong passcode is 403 ForbiddenException, an unknown code 404', async () => {
    const m = await createMeeting({ name: 'Standup', passcode: 'letmein!' });
    expect((await api('GET', `/app/api/meetings/${m.meetingCode}`)).body).toEqual({ meetingCode: m.meetingCode, name: 'Standup', passcodeRequired: true });
    expectError(await api('GET', '/app/api/meetings/zzz-zzzz-zzz'), 404, 'NotFoundException');
    expectError(await api('POST', '/app/api/meetings/zzz-zzzz-zzz/join', { body: { displayName: 'Ann' } }), 404, 'NotFoundException');

    const wrong = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Ann', passcode: 'letmeout' } });
    expectError(wrong, 403, 'ForbiddenException');
    expect(wrong.body.Message).toMatch(/passcode/i);
    expectError(await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Ann' } }), 403, 'ForbiddenException');
    expectError(await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { passcode: 'letmein!' } }), 400, 'BadRequestException');
    expectError(await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'x'.repeat(65), passcode: 'letmein!' } }), 400, 'BadRequestException');
    expectError(
      await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: JSON.stringify({ displayName: 'Ann', passcode: 'letmein!' }), headers: { 'Content-Type': 'text/plain' } }),
      400,
      'BadRequestException',
    );

    const ok = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Ann', passcode: 'letmein!' } });
    expect(ok.status).toBe(200);
    const { Meeting, Attendee, isHost } = ok.body as { Meeting: { MeetingId: string; MediaPlacement: { SignalingUrl: string } }; Attendee: { AttendeeId: string; ExternalUserId: string; JoinToken: string }; isHost: boolean };
    expect(isHost).toBe(false);
    expect(Meeting.MeetingId).toBe(m.meetingId);
    expect(Meeting.MediaPlacement.SignalingUrl).toMatch(/^ws:\/\//);
    expect(Attendee.ExternalUserId).toMatch(/^[A-Za-z0-9_-]{6}#Ann$/);
    expect(Attendee.JoinToken).toMatch(/^[A-Za-z0-9]{64}$/);
    // The attendee is the control plane's own: the AWS SDK sees it.
    const got = await t.client.send(new GetAttendeeCommand({ MeetingId: m.meetingId, AttendeeId: Attendee.AttendeeId }));
    expect(got.Attendee?.ExternalUserId).toBe(Attendee.ExternalUserId);

    // Two people with the same name are two attendees.
    const again = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Ann', passcode: 'letmein!' } });
    expect((again.body.Attendee as { AttendeeId: string }).AttendeeId).not.toBe(Attendee.AttendeeId);

    // The host key stands in for the passcode and marks the host.
    const host = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Host', hostKey: m.hostKey } });
    expect(host.status).toBe(200);
    expect(host.body.isHost).toBe(true);
  });

  it('throttles passcode guessing per client with ThrottlingException, without locking out the host', async () => {
    const m = await createMeeting({ name: 'Guarded', passcode: 'correct horse' });
    // Earlier tests already spent a few of this client's 10 failures per minute.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Eve', passcode: `guess-${i}` } })).status);
    }
    expect(statuses[0]).toBe(403);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(10);
    // Once throttled, even the right passcode waits.
    const throttled = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Eve', passcode: 'correct horse' } });
    expectError(throttled, 429, 'ThrottlingException');
    const host = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Host', hostKey: m.hostKey } });
    expect(host.status).toBe(200);
  });

  it('host actions need the host key: mute sets Audio to Receive, remove deletes the attendee, end ends the meeting', async () => {
    const m = await createMeeting({ name: 'Hosted' });
    expect(m.passcodeRequired).toBe(false);
    const joined = await api('POST', `/app/api/meetings/${m.meetingCode}/join`, { body: { displayName: 'Bob' } });
    const bob = (joined.body.Attendee as { AttendeeId: string }).AttendeeId;
    const base = `/app/api/meetings/${m.meetingCode}`;

    for (const path of [`${base}/end`, `${base}/attendees/${bob}/mute`, `${base}/attendees/${bob}/remove`]) {
      expectError(await api('POST', path), 403, 'ForbiddenException');
      expectError(await api('POST', path, { headers: { 'X-Chorus-Host-Key': 'not-the-key' } }), 403, 'ForbiddenException');
    }
    const hostHeaders = { 'X-Chorus-Host-Key': m.hostKey };
    expect((await api('POST', `${base}/attendees/${bob}/mute`, { headers: hostHeaders })).status).toBe(200);
    const muted = await t.client.send(new GetAttendeeCommand({ MeetingId: m.meetingId, AttendeeId: bob }));
    expect(muted.Attendee?.Capabilities).toEqual({ Audio: 'Receive', Video: 'SendReceive', Content: 'SendReceive' });

    expectError(await api('POST', `${base}/attendees/00000000-0000-4000-8000-000000000000/remove`, { headers: hostHeaders }), 404, 'NotFoundException');
    expect((await api('POST', `${base}/attendees/${bob}/remove`, { headers: hostHeaders })).status).toBe(200);
    await expect(t.client.send(new GetAttendeeCommand({ MeetingId: m.meetingId, AttendeeId: bob }))).rejects.toMatchObject({ name: 'NotFoundException' });

    expect((await api('POST', `${base}/end`, { headers: hostHeaders })).status).toBe(200);
    await expect(t.client.send(new GetMeetingCommand({ MeetingId: m.meetingId }))).rejects.toMatchObject({ name: 'NotFoundException' });
    expectError(await api('GET', base), 404, 'NotFoundException');
  });

  it('answers CORS only for the desktop origin, and refuses wrong methods and unknown paths precisely', async () => {
    const pre = await fetch(`${t.server.url}/app/api/meetings`, {
      method: 'OPTIONS',
      headers: { Origin: 'app://chorus', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('app://chorus');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/X-Chorus-Host-Key/);
    // The app's own credentials (live state, actions) come as headers too.
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/X-Chorus-Attendee-Id, X-Chorus-Join-Token/);
    const other = await api('GET', '/app/api/meetings', { headers: { Origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const wrongMethod = await api('DELETE', '/app/api/meetings');
    expectError(wrongMethod, 405, 'BadRequestException');
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    expectError(await api('GET', '/app/api/nothing'), 404, 'NotFoundException');
    expectError(await api('POST', '/app/api/meetings', { body: 'x'.repeat(20_000), headers: { Authorization: bearer } }), 413, 'BadRequestException');
  });
});

describe('the renderer at /', () => {
  it('serves index.html at / and for /join/<code>, assets with long caching, all with a strict CSP', async () => {
    for (const path of ['/', '/join/abc-defg-hij', '/join/abc-defg-hij?fp=AA']) {
      const res = await fetch(`${t.server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await res.text()).toContain('<title>app</title>');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    // WebAssembly may compile (the SDK needs it); JS eval and inline script may not.
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'unsafe-(eval|inline|hashes)'/);
    const asset = await fetch(`${t.server.url}/assets/app-123.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log(1)');
    expect((await fetch(`${t.server.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${t.server.url}/join/a/b`)).status).toBe(404);
  });

  it('refuses path traversal in every spelling', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/assets/../../secret.txt', '/%00', '/.env', '/%E0%A4%A']) {
      const res = await rawGet(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toContain('TOP-SECRET');
    }
  });
});

describe('the renderer’s app API client against the real server', () => {
  it('creates, describes, joins and maps errors to the exception names the screens switch on', async () => {
    // A server of its own: the earlier tests spent this client's passcode attempts on the shared one.
    const own = await startTestServer();
    const api = createAppApi(`${own.server.url}/`);
    const created = await api.create({ name: 'Client', passcode: 'pass-word' }, deriveBearerToken(TEST_CREDENTIALS));
    expect(await api.describe(created.meetingCode)).toEqual({ meetingCode: created.meetingCode, name: 'Client', passcodeRequired: true });
    expect((await api.listMeetings()).some((m) => m.meetingCode === created.meetingCode)).toBe(true);
    await expect(api.join(created.meetingCode, { displayName: 'Ann', passcode: 'nope' })).rejects.toMatchObject({ failure: 'ForbiddenException', status: 403 });
    await expect(api.describe('qqq-qqqq-qqq')).rejects.toMatchObject({ failure: 'NotFoundException', status: 404 });
    await expect(api.create({ name: 'x' }, 'chorus1.bad')).rejects.toMatchObject({ failure: 'ForbiddenException' });
    const joined = (await api.join(created.meetingCode, { displayName: 'Ann', passcode: 'pass-word' })) as JoinInfo;
    expect(joined.Attendee.ExternalUserId).toMatch(/#Ann$/);
    await api.muteAttendee(created.meetingCode, created.hostKey, joined.Attendee.AttendeeId);
    await api.removeAttendee(created.meetingCode, created.hostKey, joined.Attendee.AttendeeId);
    await api.end(created.meetingCode, created.hostKey);
    await expect(api.describe(created.meetingCode)).rejects.toBeInstanceOf(AppApiError);
    await own.close();

    // A port nobody listens on: 'Unreachable', which gets its own screen.
    const closed = await startTestServer();
    const deadUrl = closed.server.url;
    await closed.close();
    await expect(createAppApi(deadUrl).server()).rejects.toMatchObject({ failure: 'Unreachable', status: 0 });
    await expect(createAppApi(deadUrl).describe('abc-defg-hij')).rejects.toMatchObject({ failure: 'Unreachable' });
  });
});

describe('npm run server -- --meeting', () => {
  it('pre-creates a meeting and prints an invite link and a host link that work', async () => {
    const dataDir = await makeTempDir('chorus-cli-meeting-');
    const proc = await spawnServer(['--port', '0', '--data-dir', dataDir, '--meeting', 'Lobby', '--passcode', 'door-code'], {
      env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
    });
    try {
      const invite = await eventually(() => {
        const line = proc.stdout.find((l) => l.includes('invite link:'));
        if (!line) throw new Error(`no invite line yet: ${proc.stdout.join('\n')}`);
        return line;
      });
      const hostLine = proc.stdout.find((l) => l.includes('host link'))!;
      const code = /\/join\/([a-z-]+)/.exec(invite)![1]!;
      const hostKey = /#host=(\S+)/.exec(hostLine)![1]!;
      expect(invite).toContain(`${proc.url}/join/${code}`);
      const api = createAppApi(proc.url);
      expect(await api.describe(code)).toEqual({ meetingCode: code, name: 'Lobby', passcodeRequired: true });
      await expect(api.join(code, { displayName: 'G', passcode: 'wrong' })).rejects.toMatchObject({ failure: 'ForbiddenException' });
      expect(((await api.join(code, { displayName: 'G', passcode: 'door-code' })) as JoinInfo).isHost).toBe(false);
      expect(((await api.join(code, { displayName: 'H', hostKey })) as JoinInfo).isHost).toBe(true);
      // "End for all" ends the session; the operator's code stays and the next join starts afresh.
      await api.end(code, hostKey);
      expect(((await api.join(code, { displayName: 'G2', passcode: 'door-code' })) as JoinInfo).Meeting.MeetingId).toMatch(/^[0-9a-f-]{36}$/);
      // The page itself is served at the invite link.
      const page = await fetch(`${proc.url}/join/${code}`);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    } finally {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
