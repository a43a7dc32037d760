import { ChimeSDKMeetingsClient, CreateAttendeeCommand, CreateMeetingCommand, GetMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fork, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { Agent, get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkServerHealth } from '../../src-main/electron/server-host/health-check.js';
import { ServerBrowser } from '../../src-main/electron/server-host/mdns.js';
import type { HostStartOptions } from '../../src-main/electron/server-host/messages.js';
import { HostError, ServerSupervisor, type HostChild } from '../../src-main/electron/server-host/supervisor.js';
import { deriveBearerToken } from '../../src-main/server/auth/bearer-token.js';
import type { HostStatus } from '../../src-main/shared/desktop-api.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempDir } from '../helpers/server.js';

/**
 * The embedded-server entry, run for real: each child is a Node process running
 * src-main/electron/server-host/entry.ts (the module Electron's utilityProcess
 * runs) behind an emulated parentPort (see desktop-support/utility-process-adapter.ts;
 * the one stand-in, because utilityProcess cannot run here). The supervisor,
 * the server, TLS, /health and the Chime API are all real.
 */

const ADAPTER = join(import.meta.dirname, 'desktop-support', 'utility-process-adapter.ts');
const BUNDLED_ENTRY = join(import.meta.dirname, '..', '..', 'dist', 'electron', 'server-host.js');
if (!existsSync(BUNDLED_ENTRY)) console.warn(`skipping the bundled-entry test: ${BUNDLED_ENTRY} is missing (run npm run build:electron)`);

const children: ChildProcess[] = [];
const supervisors: ServerSupervisor[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop({ endMeetings: true }).catch(() => undefined);
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** HostChild over a forked Node process, the way main.ts wraps a UtilityProcess. */
function spawnEntry(stderr: string[], entryFile?: string): HostChild {
  const child = fork(ADAPTER, entryFile ? [entryFile] : [], {
    execArgv: ['--import', 'tsx'],
    // Credentials come from the data directory, as in the app, not from the test runner's environment.
    env: { ...process.env, CHORUS_ACCESS_KEY_ID: '', CHORUS_SECRET_ACCESS_KEY: '' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  children.push(child);
  return {
    postMessage: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => child.kill('SIGKILL'),
  };
}

async function hostedSupervisor(options: { advertise?: boolean; serviceName?: string; entryFile?: string } = {}) {
  const dataDir = await makeTempDir('chorus-desktop-host-');
  dirs.push(dataDir);
  const stderr: string[] = [];
  const statuses: HostStatus[] = [];
  const startOptions: HostStartOptions = { dataDir, host: '127.0.0.1', port: 0, serviceName: options.serviceName ?? 'Test host', advertise: options.advertise ?? false };
  const supervisor = new ServerSupervisor({
    spawn: () => spawnEntry(stderr, options.entryFile),
    checkHealth: (info) => checkServerHealth(info, 1_000),
    startOptions,
    policy: { healthIntervalMs: 250, unhealthyAfter: 2, backoffInitialMs: 200, backoffMaxMs: 1_000, startTimeoutMs: 20_000 },
  });
  supervisor.on('status', (s) => statuses.push(s));
  supervisors.push(supervisor);
  return { supervisor, statuses, dataDir, stderr };
}

function chimeClient(localUrl: string, certPem: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  return new ChimeSDKMeetingsClient({
    region: 'us-east-1',
    endpoint: localUrl,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: certPem, servername: 'localhost' }) }),
  });
}

const lastChild = (): ChildProcess => children[children.length - 1]!;

describe('the embedded-server entry under the supervisor', () => {
  it('starts the real server with TLS, answers /health and the Chime API, restarts after kill -9 on the same port', async () => {
    const { supervisor, statuses, dataDir, stderr } = await hostedSupervisor();
    const info = await supervisor.start();

    const certPem = await readFile(join(dataDir, 'tls-cert.pem'), 'utf8');
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect(info.localUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.fingerprint).toBe(new X509Certificate(certPem).fingerprint256);
    expect(info.bearerToken).toBe(deriveBearerToken(credentials));
    for (const url of info.lanUrls) expect(url).toMatch(new RegExp(`^https://[\\d.]+:${new URL(info.localUrl).port}$`));
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'running']);
    expect(await checkServerHealth(info)).toBe(true);
    // A server with another certificate on that address is not ours.
    expect(await checkServerHealth({ ...info, fingerprint: info.fingerprint.replace(/^../, info.fingerprint.startsWith('00') ? '11' : '00') })).toBe(false);

    const client = chimeClient(info.localUrl, certPem, credentials);
    const before = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'before-crash' }));
    expect(await supervisor.activeMeetings()).toBe(1);

    const crashed = lastChild();
    crashed.kill('SIGKILL');
    await eventually(() => expect(statuses.map((s) => s.state)).toEqual(['starting', 'running', 'crashed', 'starting', 'running']), 20_000, 100);
    expect(lastChild()).not.toBe(crashed);
    const crashStatus = statuses.find((s) => s.state === 'crashed');
    expect(crashStatus).toMatchObject({ state: 'crashed', restarting: true });
    expect((crashStatus as { message: string }).message).toMatch(/was killed; restarting in \d+ s/);
    const after = supervisor.status() as Extract<HostStatus, { state: 'running' }>;
    expect(after.info.localUrl).toBe(info.localUrl);
    expect(after.info.fingerprint).toBe(info.fingerprint);

    // The old meeting outlived its process (its state is in the data directory); a new one works end to end.
    const restored = await client.send(new GetMeetingCommand({ MeetingId: before.Meeting!.MeetingId }));
    expect(restored.Meeting?.ExternalMeetingId).toBe('before-crash');
    const { Meeting } = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'after-crash' }));
    expect(await supervisor.activeMeetings()).toBe(2);
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: Meeting!.MeetingId, ExternalUserId: 'host-user' }));
    expect(Attendee!.JoinToken).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(Meeting!.MediaPlacement!.SignalingUrl).toContain(new URL(info.localUrl).host);
    client.destroy();
    expect(stderr.join('')).not.toContain(credentials.secretAccessKey);
  });

  it('kills and restarts a server that stops answering its health check', async () => {
    const { supervisor, statuses } = await hostedSupervisor();
    await supervisor.start();
    const hung = lastChild();
    // A frozen process keeps its port open but answers nothing: only the health check can tell.
    hung.kill('SIGSTOP');
    await eventually(() => expect(statuses.some((s) => s.state === 'crashed' && /stopped answering its health check/.test(s.message))).toBe(true), 20_000, 100).catch((e: unknown) => {
      throw new Error(`${String(e)}; statuses: ${JSON.stringify(statuses)}`);
    });
    await eventually(() => expect(supervisor.status().state).toBe('running'), 20_000, 100);
    expect(hung.signalCode).toBe('SIGKILL');
  });

  it('refuses to stop while meetings run unless told to end them, then stops the process', async () => {
    const { supervisor, dataDir } = await hostedSupervisor();
    const info = await supervisor.start();
    const certPem = await readFile(join(dataDir, 'tls-cert.pem'), 'utf8');
    const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const client = chimeClient(info.localUrl, certPem, credentials);
    await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'in-progress' }));
    client.destroy();

    const error = await supervisor.stop({ endMeetings: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostError);
    expect(error).toMatchObject({ code: 'MEETINGS_IN_PROGRESS' });
    expect(supervisor.status().state).toBe('running');

    const child = lastChild();
    await supervisor.stop({ endMeetings: true });
    expect(supervisor.status()).toEqual({ state: 'stopped' });
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    expect(await checkServerHealth(info, 1_000)).toBe(false);
  });

  it('advertises the hosted server over mDNS with its fingerprint and withdraws it on stop', async () => {
    const serviceName = `chorus-host-test-${process.pid}`;
    const browser = new ServerBrowser(() => undefined);
    try {
      const { supervisor } = await hostedSupervisor({ advertise: true, serviceName });
      const info = await supervisor.start();
      const found = await eventually(() => {
        const match = browser.list().find((s) => s.name === serviceName);
        expect(match).toBeDefined();
        return match!;
      }, 10_000, 100);
      expect(found.fingerprint).toBe(info.fingerprint);
      expect(new URL(found.serverUrl).port).toBe(new URL(info.localUrl).port);
      await supervisor.stop({ endMeetings: true });
      await eventually(() => expect(browser.list().find((s) => s.name === serviceName)).toBeUndefined(), 10_000, 100);
    } finally {
      browser.close();
    }
  });

  // The bundle Electron actually loads; `npm test` builds it before Vitest runs.
  it.skipIf(!existsSync(BUNDLED_ENTRY))('the bundled entry (dist/electron/server-host.js) hosts too', async () => {
    const { supervisor } = await hostedSupervisor({ entryFile: BUNDLED_ENTRY });
    const info = await supervisor.start();
    expect(await checkServerHealth(info)).toBe(true);
    // The bundle finds package.json from dist/electron, so the server reports the real version.
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsGet(`${info.localUrl}/app/api/server`, { rejectUnauthorized: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    expect((JSON.parse(body) as { version: string }).version).toBe(version);
  });
});
