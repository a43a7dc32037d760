import { CreateAttendeeCommand, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateExternalId } from '../../src-main/server/control-plane/validation.js';
import { makeTempDir, startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { killGroup, spawnServer, waitForLine, type ServerProcess } from '../helpers/server-process.js';
import { signedFetch } from '../helpers/signed-fetch.js';

/**
 * Smaller hardening: names that could spoof a roster are refused, external ids
 * follow Chime's own whitespace rule, JSON is never sniffed, and the webhook
 * secret is printed only by the run that generates it.
 */

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ allowWebHosting: true });
});
afterAll(async () => {
  await t.close();
});

async function appJoin(code: string, displayName: string): Promise<Response> {
  return fetch(`${t.server.url}/app/api/meetings/${code}/join`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ displayName }),
  });
}

describe('names', () => {
  it('refuses display names with bidi overrides, isolates, zero-width or other control characters; accepts any script', async () => {
    const created = await fetch(`${t.server.url}/app/api/meetings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Names' }) });
    const { meetingCode } = (await created.json()) as { meetingCode: string };
    for (const name of ['\u202Eevil', 'a\u2066b', 'zero\u200Bwidth', 'b\uFEFFom', 'line\u2028sep', 'c1\u0085x', 'tab\there']) {
      const res = await appJoin(meetingCode, name);
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(((await res.json()) as { Message: string }).Message).toMatch(/control|invisible/);
    }
    for (const name of ['Zoë Åström', '李小龙', 'محمد', 'Ana\u3000María', 'J.\u00A0R.']) {
      const res = await appJoin(meetingCode, name);
      expect(res.status, name).toBe(200);
    }
  });

  it("allows in ExternalUserId only Chime's whitespace (Java \\s), not what JavaScript's \\s also matches", async () => {
    for (const ws of ['\u00A0', '\u2028', '\u2029', '\u3000', '\uFEFF', '\u1680', '\u2003']) {
      expect(() => validateExternalId('ExternalUserId', `ab${ws}cd`), `U+${ws.codePointAt(0)!.toString(16)}`).toThrow(/not allowed/);
    }
    for (const ws of [' ', '\t', '\n', '\u000B', '\f', '\r']) expect(validateExternalId('ExternalUserId', `ab${ws}cd`)).toBe(`ab${ws}cd`);
    const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'names' }));
    await expect(t.client.send(new CreateAttendeeCommand({ MeetingId: Meeting!.MeetingId, ExternalUserId: 'ann\u2028ben' }))).rejects.toThrow(/not allowed/);
    await expect(t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'weekly\u3000sync' }))).rejects.toThrow(/not allowed/);
  });
});

describe('headers', () => {
  it('sends X-Content-Type-Options: nosniff with every JSON answer: API, app API, errors, /health', async () => {
    const signed = [
      await signedFetch(t.server.url, { method: 'POST', path: '/meetings', body: JSON.stringify({ MediaRegion: 'us-east-1', ExternalMeetingId: 'nosniff' }) }),
      await signedFetch(t.server.url, { method: 'GET', path: '/meetings/00000000-0000-4000-8000-000000000000' }),
    ];
    expect(signed.map((r) => r.status)).toEqual([200, 404]);
    for (const res of signed) {
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const responses = [
      await fetch(`${t.server.url}/meetings`),
      await fetch(`${t.server.url}/app/api/server`),
      await fetch(`${t.server.url}/app/api/meetings/nope-nope-nop`),
      await fetch(`${t.server.url}/health`),
    ];
    for (const res of responses) {
      expect(res.headers.get('content-type'), res.url).toMatch(/application\/json/);
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
    }
  });
});

describe('the webhook secret', () => {
  it('is printed by the run that generates it, and by no later run', async () => {
    const dataDir = await makeTempDir('chorus-secret-');
    const env = { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, CHORUS_WEBHOOK_SECRET: '' };
    const args = ['--port', '0', '--data-dir', dataDir, '--webhook-url', 'http://127.0.0.1:9/hook'];
    const runs: ServerProcess[] = [];
    try {
      const first = await spawnServer(args, { env });
      runs.push(first);
      const line = await waitForLine(first, /Webhooks to/);
      const secret = /signing secret (whsec_\S+)/.exec(line)?.[1];
      expect(secret, line).toBeDefined();
      expect(line).toContain('shown only this once');
      expect(await first.stop('SIGTERM')).toBe(0);

      const second = await spawnServer(args, { env });
      runs.push(second);
      const again = await waitForLine(second, /Webhooks to/);
      expect(again).toContain(`signing secret in ${dataDir}`);
      expect([...second.stdout, ...second.stderr].join('\n')).not.toContain(secret!);
      expect(await second.stop('SIGTERM')).toBe(0);
    } finally {
      for (const r of runs) killGroup(r.proc, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
