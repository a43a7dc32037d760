import { CreateAttendeeCommand, CreateMeetingCommand, ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { Agent } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/server.js';
import { killGroup, spawnServer, waitForLine, type ServerProcess } from '../helpers/server-process.js';

const running: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) killGroup(s.proc, 'SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(args: string[], options?: Parameters<typeof spawnServer>[1]): Promise<ServerProcess> {
  const server = await spawnServer(args, options);
  running.push(server);
  return server;
}

async function tempDir(): Promise<string> {
  const dir = await makeTempDir('chorus-cli-');
  dirs.push(dir);
  return dir;
}

function peerFingerprint(url: string, ca?: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, rejectUnauthorized: ca !== undefined, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('the headless server process', () => {
  it('--port 0 prints the real port, generates owner-only credentials, and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir();
    const server = await start(['--port', '0', '--data-dir', dataDir], { env: { CHORUS_ACCESS_KEY_ID: '', CHORUS_SECRET_ACCESS_KEY: '' } });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(server.url).port).not.toBe('0');

    const credentialsPath = join(dataDir, 'credentials.json');
    expect((await stat(credentialsPath)).mode & 0o777).toBe(0o600);
    const credentials = JSON.parse(await readFile(credentialsPath, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    expect(await waitForLine(server, /API access key/)).toContain(credentialsPath);
    expect(server.stdout.join('\n')).not.toContain(credentials.secretAccessKey);

    const client = new ChimeSDKMeetingsClient({ region: 'us-east-1', endpoint: server.url, credentials, maxAttempts: 1 });
    const { Meeting } = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
    const { Attendee } = await client.send(new CreateAttendeeCommand({ MeetingId: Meeting!.MeetingId, ExternalUserId: 'cli-user' }));
    client.destroy();
    expect(server.stderr.join('\n')).not.toContain(Attendee!.JoinToken!);
    expect(server.stderr.join('\n')).not.toContain(credentials.secretAccessKey);
    expect(server.stderr.some((line) => JSON.parse(line).event === 'meeting_created')).toBe(true);

    const started = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.stderr.some((line) => line.includes('"reason":"server-shutdown"'))).toBe(true);
  });

  it('a SIGTERM the moment it says it is listening still stops it cleanly (exit 0)', async () => {
    // The listening line is the first thing a supervisor sees; a signal sent on it must not
    // meet the default disposition while the rest of the banner (here a meeting) is still printing.
    for (let i = 0; i < 3; i++) {
      const dataDir = await tempDir();
      const server = await start(['--port', '0', '--data-dir', dataDir, '--meeting', 'standup'], { env: { CHORUS_ACCESS_KEY_ID: 'CHORUSSIGKEY', CHORUS_SECRET_ACCESS_KEY: 'sig-secret' } });
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });

  it('--tls on loopback serves HTTPS with a persistent self-signed certificate whose fingerprint it prints', async () => {
    const dataDir = await tempDir();
    const env = { CHORUS_ACCESS_KEY_ID: 'CHORUSTLSKEY', CHORUS_SECRET_ACCESS_KEY: 'tls-secret' };
    const server = await start(['--port', '0', '--tls', '--data-dir', dataDir], { env });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const printed = (await waitForLine(server, /fingerprint/)).split(': ')[1];
    expect(printed).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const certPem = await readFile(join(dataDir, 'tls-cert.pem'), 'utf8');
    expect(await peerFingerprint(server.url, certPem)).toBe(printed);
    expect((await stat(join(dataDir, 'tls-key.pem'))).mode & 0o777).toBe(0o600);

    // The real SDK over HTTPS, trusting exactly this certificate.
    const client = new ChimeSDKMeetingsClient({
      region: 'us-east-1', endpoint: server.url, maxAttempts: 1,
      credentials: { accessKeyId: env.CHORUS_ACCESS_KEY_ID, secretAccessKey: env.CHORUS_SECRET_ACCESS_KEY },
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: certPem }) }),
    });
    const { Meeting } = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
    client.destroy();
    expect(Meeting!.MediaPlacement!.SignalingUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/control\//);
    expect(Meeting!.MediaPlacement!.TurnControlUrl).toMatch(/^https:\/\//);

    // Plain HTTP to a TLS port is refused.
    await expect(fetch(server.url.replace('https', 'http') + '/health')).rejects.toThrow();

    expect(await server.stop()).toBe(0);
    const again = await start(['--port', '0', '--tls', '--data-dir', dataDir], { env });
    expect((await waitForLine(again, /fingerprint/)).split(': ')[1]).toBe(printed);
    expect(await again.stop()).toBe(0);
  });

  it('--public-url is what MediaPlacement advertises', async () => {
    const dataDir = await tempDir();
    const env = { CHORUS_ACCESS_KEY_ID: 'CHORUSPUBKEY', CHORUS_SECRET_ACCESS_KEY: 'pub-secret' };
    const server = await start(['--port', '0', '--data-dir', dataDir, '--public-url', 'https://meet.example.test:8443/'], { env });
    const client = new ChimeSDKMeetingsClient({
      region: 'us-east-1', endpoint: server.url, maxAttempts: 1,
      credentials: { accessKeyId: env.CHORUS_ACCESS_KEY_ID, secretAccessKey: env.CHORUS_SECRET_ACCESS_KEY },
    });
    const { Meeting } = await client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'standup' }));
    client.destroy();
    expect(Meeting!.MediaPlacement!.SignalingUrl).toBe(`wss://meet.example.test:8443/control/${Meeting!.MeetingId}`);
    expect(await server.stop('SIGINT')).toBe(0);
  });

  it('`npm run server` works as documented', async () => {
    const dataDir = await tempDir();
    const server = await start(['--', '--port', '0', '--data-dir', dataDir], {
      command: ['npm', 'run', '--silent', 'server'],
      env: { CHORUS_ACCESS_KEY_ID: 'CHORUSNPMKEY', CHORUS_SECRET_ACCESS_KEY: 'npm-secret' },
    });
    const res = await fetch(`${server.url}/health`);
    expect(await res.json()).toEqual({ status: 'ok' });
    // A process manager signals npm only; the server must still shut down cleanly.
    server.proc.kill('SIGTERM');
    await server.exited;
    const deadline = Date.now() + 5_000;
    let down = false;
    while (!down && Date.now() < deadline) {
      down = await fetch(`${server.url}/health`).then(() => false, () => true);
      if (!down) await new Promise((r) => setTimeout(r, 100));
    }
    expect(down).toBe(true);
  });

  it('refuses bad options with a clear message and exit code 1', async () => {
    const result = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/cli.ts', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (chunk) => (err += chunk));
      proc.on('exit', (code) => resolve({ code, err }));
    });
    expect(result.code).toBe(1);
    expect(result.err).toContain("--port must be an integer from 0 to 65535, got 'eighty'");
  });

  it('a port in use is a clear message that says how to pick another, with exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dataDir = await tempDir();
      const result = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', 'src-main/server/cli.ts', '--port', String(port), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        proc.stderr.on('data', (chunk) => (err += chunk));
        proc.on('exit', (code) => resolve({ code, err }));
      });
      expect(result.code).toBe(1);
      expect(result.err).toContain(`Cannot listen on 127.0.0.1:${port}: the port is already in use`);
      expect(result.err).toContain(`npm run server -- --port ${port + 1}`);
      expect(result.err).toContain('--port 0 for any free port');
    } finally {
      blocker.close();
    }
  });
});
