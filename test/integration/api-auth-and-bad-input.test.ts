import { ChimeSDKMeetingsClient, ChimeSDKMeetingsServiceException, CreateMeetingCommand, GetMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chimeClient, startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/signed-fetch.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const meetingCount = async (): Promise<number> => (await t.server.service.listMeetings()).length;
const createBody = JSON.stringify({ MediaRegion: 'us-east-1', ExternalMeetingId: 'raw-meeting', ClientRequestToken: 'raw-token-1' });

function expectAwsError(res: { status: number; headers: Headers; json: () => Record<string, unknown> }, status: number, name: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('x-amzn-errortype')).toBe(name);
  expect(typeof res.json().Message).toBe('string');
  expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
}

describe('SigV4 authentication', () => {
  it('accepts a correctly signed raw request', async () => {
    const res = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body: JSON.stringify({ MediaRegion: 'us-east-1', ExternalMeetingId: 'raw-meeting' }) });
    expect(res.status).toBe(200);
    expect((res.json().Meeting as { MeetingId: string }).MeetingId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a wrong secret with ForbiddenException, and creates nothing', async () => {
    const before = await meetingCount();
    const bad = chimeClient(t.server.url, { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' });
    const error = await bad.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' })).catch((e: unknown) => e);
    bad.destroy();
    expect(error).toBeInstanceOf(ChimeSDKMeetingsServiceException);
    expect((error as ChimeSDKMeetingsServiceException).name).toBe('ForbiddenException');
    expect((error as ChimeSDKMeetingsServiceException).$metadata.httpStatusCode).toBe(403);
    expect((error as Error).message).toMatch(/signature does not match/);
    expect(await meetingCount()).toBe(before);
  });

  it('refuses an unknown access key', async () => {
    const res = await signedFetch(t.server.url, {
      method: 'POST', path: '/meetings', body: createBody,
      credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: TEST_CREDENTIALS.secretAccessKey },
    });
    expectAwsError(res, 403, 'ForbiddenException');
    expect(res.json().Message).toMatch(/access key/);
  });

  it('refuses a missing signature', async () => {
    const before = await meetingCount();
    const res = await fetch(`${t.server.url}/meetings`, { method: 'POST', body: createBody, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await meetingCount()).toBe(before);
  });

  it('refuses a stale date even when the signature itself is valid', async () => {
    const before = await meetingCount();
    const res = await signedFetch(t.server.url, {
      method: 'POST', path: '/meetings', body: createBody, signingDate: new Date(Date.now() - 10 * 60_000),
    });
    expectAwsError(res, 403, 'ForbiddenException');
    expect(res.json().Message).toMatch(/Signature expired/);
    expect(await meetingCount()).toBe(before);
  });

  it('refuses a body changed after signing', async () => {
    const res = await signedFetch(t.server.url, {
      method: 'POST', path: '/meetings', body: createBody,
      tamper: (req) => {
        req.body = JSON.stringify({ MediaRegion: 'us-west-2', ExternalMeetingId: 'raw-meeting', ClientRequestToken: 'raw-token-1' });
      },
    });
    expectAwsError(res, 403, 'ForbiddenException');
  });

  it('refuses a signature for another service', async () => {
    const res = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body: createBody, service: 's3' });
    expectAwsError(res, 403, 'ForbiddenException');
    expect(res.json().Message).toMatch(/service 's3'/);
  });

  it('a skewed client learns the server time from the Date header and then succeeds, as against AWS', async () => {
    const skewed = new ChimeSDKMeetingsClient({
      region: 'us-east-1', endpoint: t.server.url, credentials: TEST_CREDENTIALS,
      systemClockOffset: -15 * 60_000,
      maxAttempts: 1,
    });
    try {
      const first = await skewed.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' })).catch((e: unknown) => e as Error);
      expect((first as Error).name).toBe('ForbiddenException');
      expect((first as Error).message).toMatch(/Signature expired/);
      expect(Math.abs(skewed.config.systemClockOffset ?? -1)).toBeLessThan(60_000);
      const { Meeting } = await skewed.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
      expect(Meeting?.MeetingId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      skewed.destroy();
    }
  });
});

describe('bad input on the API', () => {
  it('malformed JSON gets BadRequestException', async () => {
    const res = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body: '{"MediaRegion": ' });
    expectAwsError(res, 400, 'BadRequestException');
    expect(res.json().Message).toBe('Request body is not valid JSON');
  });

  it('JSON of the wrong shape gets BadRequestException naming the field', async () => {
    for (const body of ['[]', '"text"', '{"MediaRegion": 5}', '{}']) {
      const res = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body });
      expectAwsError(res, 400, 'BadRequestException');
    }
    const res = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body: '{"MediaRegion": 5}' });
    expect(res.json().Message).toContain('MediaRegion');
  });

  it('unknown routes get NotFoundException', async () => {
    const res = await signedFetch(t.server.url, { method: 'GET', path: '/meetings/00000000-0000-4000-8000-000000000000/nothing' });
    expectAwsError(res, 404, 'NotFoundException');
    const op = await signedFetch(t.server.url, { method: 'POST', path: '/meetings', query: { operation: 'explode' }, body: createBody });
    expectAwsError(op, 404, 'NotFoundException');
    expect(op.json().Message).toContain("'explode'");
  });

  it('wrong methods get 405 with Allow', async () => {
    const res = await signedFetch(t.server.url, { method: 'PATCH', path: '/meetings', body: createBody });
    expectAwsError(res, 405, 'BadRequestException');
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('an oversized body gets 413 and the server keeps serving', async () => {
    const huge = JSON.stringify({ MediaRegion: 'us-east-1', ExternalMeetingId: 'big', Pad: 'x'.repeat(300 * 1024) });
    const res = await fetch(`${t.server.url}/meetings`, { method: 'POST', body: huge });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
    expect((await t.client.send(new GetMeetingCommand({ MeetingId: Meeting!.MeetingId }))).Meeting?.MeetingId).toBe(Meeting!.MeetingId);
  });

  it('garbage on the socket is answered 400 and does not disturb others', async () => {
    const url = new URL(t.server.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('\x00\x01GARBAGE \r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const ok = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
    expect(ok.Meeting?.MeetingId).toBeDefined();
  });

  it('tokens and secrets never reach the logs', async () => {
    const joined = t.logs.join('\n');
    expect(joined.length).toBeGreaterThan(0);
    expect(joined).not.toContain(TEST_CREDENTIALS.secretAccessKey);
    expect(joined).not.toMatch(/Signature=[0-9a-f]{64}/);
  });
});

describe('active meeting quota', () => {
  it('refuses meetings past --max-meetings with LimitExceededException', async () => {
    const small = await startTestServer({ maxActiveMeetings: 2 });
    try {
      await small.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
      await small.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
      const error = await small.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' })).catch((e: unknown) => e);
      expect((error as Error).name).toBe('LimitExceededException');
    } finally {
      await small.close();
    }
  });
});
