import { CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { writeFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMIT_CLOSE_CODES } from '../../src-main/server/signaling/signaling-gateway.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { chimeClient, makeTempDir, startTestServer, TEST_CREDENTIALS, type TestServer } from '../helpers/server.js';
import { killGroup, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { signalingUrl, SignalClient } from '../helpers/signaling-client.js';

/**
 * Slow, idle and numerous clients against the real server on loopback. Each limit
 * is set low here so that its test takes a second or two; every loop is bounded.
 * Source addresses other than 127.0.0.1 (the whole 127/8 is loopback on Linux)
 * stand for different clients.
 */

const servers: TestServer[] = [];
const processes: ServerProcess[] = [];
const sockets: Socket[] = [];
const signals: SignalClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(signals.splice(0).map((c) => c.close()));
  for (const p of processes.splice(0)) {
    killGroup(p.proc, 'SIGKILL');
    await p.exited;
  }
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function server(config: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const t = await startTestServer(config);
  servers.push(t);
  return t;
}

interface RawConnection {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}

/** A raw TCP connection from `localAddress`; `closed` resolves with the ms it stayed open. */
function raw(url: string, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    sockets.push(socket);
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - opened)));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Resolves with the ms, or rejects when still open after `withinMs`. */
async function closesWithin(connection: RawConnection, withinMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connection still open after ${withinMs} ms`)), withinMs);
  });
  try {
    return await Promise.race([connection.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET over a fresh connection from `localAddress`: status, headers and body. */
function get(url: string, path: string, localAddress = '127.0.0.1'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { localAddress, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function attendeeToken(t: TestServer) {
  const { meeting, attendees } = await createMeetingWithAttendees(t.client, `limits-${Date.now()}`, ['ann-limits']);
  return { meeting, token: attendees[0]!.JoinToken! };
}

async function connectSignal(url: string, token: string, headers?: Record<string, string>): Promise<SignalClient> {
  const client = await SignalClient.connect(url, { token, headers });
  signals.push(client);
  return client;
}

const waitClose = (client: SignalClient, withinMs: number) =>
  eventually(() => {
    expect(client.closeInfo).toBeDefined();
    return client.closeInfo!;
  }, withinMs, 20);

describe('timeouts', () => {
  it('closes a connection that sends no request within the header timeout, with 408', async () => {
    const t = await server({ limits: { headersTimeoutMs: 500 } });
    const idle = await raw(t.server.url);
    const partial = await raw(t.server.url);
    partial.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    expect(await closesWithin(idle, 3_000)).toBeGreaterThanOrEqual(400);
    await closesWithin(partial, 3_000);
    expect(partial.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a request whose body trickles in at the request timeout', async () => {
    const t = await server({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 } });
    const slow = await raw(t.server.url);
    slow.socket.write('POST /meetings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const timer = setInterval(() => slow.socket.write(' '), 200);
    try {
      await closesWithin(slow, 3_000);
    } finally {
      clearInterval(timer);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a TLS connection that never finishes its handshake', async () => {
    const t = await server({ tls: true, limits: { tlsHandshakeTimeoutMs: 500 } });
    const silent = await raw(t.server.url);
    expect(await closesWithin(silent, 3_000)).toBeGreaterThanOrEqual(400);
  });

  it('closes a connection that stops reading a response at the idle timeout', async () => {
    const dir = await makeTempDir('chorus-static-');
    dirs.push(dir);
    const size = 32 * 1024 * 1024;
    await writeFile(join(dir, 'big.txt'), Buffer.alloc(size, 0x61));
    const t = await server({ rendererDir: dir, limits: { idleTimeoutMs: 1_000 } });
    const reader = await raw(t.server.url);
    reader.socket.write('GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    // Read a little, then stop: the server's writes stall on a full socket.
    await eventually(() => expect(reader.received().length).toBeGreaterThan(1000), 3_000, 20);
    reader.socket.pause();
    await new Promise((r) => setTimeout(r, 3_000));
    reader.socket.resume();
    await closesWithin(reader, 5_000);
    expect(reader.received().length).toBeLessThan(size);
  }, 20_000);

  it('closes a signaling WebSocket that does not JOIN in time, though it keeps pinging', async () => {
    const t = await server({ limits: { joinTimeoutMs: 600 } });
    const { meeting, token } = await attendeeToken(t);
    const idle = await connectSignal(signalingUrl(meeting), token);
    const joiner = await connectSignal(signalingUrl(meeting), (await t.server.service.createAttendee(meeting.MeetingId!, { ExternalUserId: 'bob-limits' })).JoinToken);
    await joiner.join();
    const pinger = setInterval(() => idle.isOpen && idle.sendPing(), 100);
    try {
      expect(await waitClose(idle, 3_000)).toEqual({ code: LIMIT_CLOSE_CODES.joinTimeout, reason: 'No JOIN in time' });
    } finally {
      clearInterval(pinger);
    }
    await new Promise((r) => setTimeout(r, 800));
    expect(joiner.isOpen).toBe(true);
  });
});

describe('caps', () => {
  it('refuses a join token more sockets than its share, and the ones it has keep working', async () => {
    const t = await server({ limits: { maxSocketsPerToken: 2 } });
    const { meeting, token } = await attendeeToken(t);
    const first = await connectSignal(signalingUrl(meeting), token);
    const second = await connectSignal(signalingUrl(meeting), token);
    const third = await connectSignal(signalingUrl(meeting), token);
    expect(await waitClose(third, 2_000)).toEqual({ code: LIMIT_CLOSE_CODES.tooManySockets, reason: 'Too many connections for this join token' });
    expect(first.isOpen && second.isOpen).toBe(true);
    await first.join();
    // A socket that closes gives its place back.
    await second.close();
    await eventually(async () => {
      const again = await connectSignal(signalingUrl(meeting), token);
      await again.ping();
      expect(again.isOpen).toBe(true);
    }, 3_000, 100);
  });

  it('gives each client address its share of connections: past it, 429 with Retry-After; other addresses are served', async () => {
    const t = await server({ limits: { maxConnectionsPerAddress: 5 } });
    for (let i = 0; i < 5; i++) await raw(t.server.url, '127.0.0.2');
    const over = await get(t.server.url, '/health', '127.0.0.2');
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('5');
    expect((await get(t.server.url, '/health', '127.0.0.3')).status).toBe(200);
  });

  it('answers 503 with Retry-After past the global cap, keeps /health answering, and recovers when connections close', async () => {
    const t = await server({ limits: { maxConnections: 10, maxConnectionsPerAddress: 100 } });
    const held: RawConnection[] = [];
    for (let i = 0; i < 10; i++) held.push(await raw(t.server.url, `127.0.0.${10 + (i % 3)}`));
    const full = await get(t.server.url, '/meetings');
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    expect(JSON.parse(full.body)).toMatchObject({ Code: 'ServiceUnavailable' });
    expect((await get(t.server.url, '/health')).status).toBe(200);
    for (const c of held) c.socket.destroy();
    await eventually(async () => {
      const { Meeting } = await t.client.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'after-full' }));
      expect(Meeting?.MeetingId).toBeDefined();
    }, 3_000, 100);
  });

  it('with 256 descriptors, keeps /health, the API and joins working against 300 idle connections, and answers 503 rather than fail when full', async () => {
    const dir = await makeTempDir('chorus-fd-');
    dirs.push(dir);
    const node = [process.execPath, '--import', 'tsx', 'src-main/server/cli.ts'];
    const proc = await spawnServer(['--port', '0', '--data-dir', dir], {
      command: ['bash', '-c', 'ulimit -n 256 && exec "$@"', 'bash', ...node],
      env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
    });
    processes.push(proc);
    // The limits in force, from the server_started log line (stderr, which may trail stdout a little).
    const { maxConnections, maxConnectionsPerAddress } = await eventually(() => {
      const logged = proc.stderr.map((line) => {
        try {
          return (JSON.parse(line) as { limits?: { maxConnections: number; maxConnectionsPerAddress: number } }).limits;
        } catch {
          return undefined;
        }
      }).find(Boolean);
      expect(logged).toBeDefined();
      return logged!;
    }, 3_000, 20);
    expect(maxConnections).toBeLessThan(256 - 64);

    // One client holds 300 connections: it gets its share, the rest are turned away, and everyone else is served.
    const flood: RawConnection[] = [];
    for (let i = 0; i < 300; i++) flood.push(await raw(proc.url, '127.0.0.2'));
    await eventually(() => expect(flood.filter((c) => c.socket.destroyed).length).toBeGreaterThanOrEqual(300 - maxConnectionsPerAddress), 5_000, 50);
    expect((await get(proc.url, '/health')).status).toBe(200);
    const api = chimeClient(proc.url);
    const { meeting, attendees } = await createMeetingWithAttendees(api, 'fd-limit', ['ann-fd']);
    const client = await connectSignal(signalingUrl(meeting), attendees[0]!.JoinToken!);
    await client.join();
    for (const c of flood) c.socket.destroy();

    // Many clients fill the server: the API says 503 with Retry-After, /health still answers, then all recovers.
    const crowd: RawConnection[] = [];
    for (let i = 0; crowd.length < maxConnections; i++) crowd.push(await raw(proc.url, `127.0.1.${1 + (i % 8)}`));
    await new Promise((r) => setTimeout(r, 200));
    const full = await get(proc.url, '/meetings');
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    expect((await get(proc.url, '/health')).status).toBe(200);
    for (const c of crowd) c.socket.destroy();
    await eventually(async () => {
      const again = await createMeetingWithAttendees(api, 'fd-limit-after', ['ben-fd']);
      expect(again.meeting.MeetingId).toBeDefined();
    }, 5_000, 100);
    api.destroy();
  }, 60_000);
});

describe('WebSocket origin', () => {
  it('refuses a foreign page, and lets in its own pages, the desktop app, allowlisted origins, local pages and clients without Origin', async () => {
    const t = await server({ limits: { allowedOrigins: ['https://portal.example.com'] } });
    const { meeting, token } = await attendeeToken(t);
    const url = signalingUrl(meeting);
    const foreign = await connectSignal(url, token, { Origin: 'https://evil.example' });
    expect(await waitClose(foreign, 2_000)).toEqual({ code: LIMIT_CLOSE_CODES.originRefused, reason: 'Origin not allowed' });
    const opaque = await connectSignal(url, token, { Origin: 'null' });
    expect((await waitClose(opaque, 2_000)).code).toBe(LIMIT_CLOSE_CODES.originRefused);
    for (const origin of [new URL(t.server.url).origin, 'app://chorus', 'https://portal.example.com', 'http://localhost:3000', undefined]) {
      const client = await connectSignal(url, token, origin ? { Origin: origin } : undefined);
      await client.ping();
      expect(client.isOpen, `origin ${origin}`).toBe(true);
      await client.close();
    }
  });
});
