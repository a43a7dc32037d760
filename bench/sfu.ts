import { BatchCreateAttendeeCommand, ChimeSDKMeetingsClient, CreateMeetingCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadlessClient } from '../test/helpers/headless-client.js';
import { spawnServer } from '../test/helpers/server-process.js';
import { cpuSeconds, percentile, rssMiB } from './proc-stats.js';

export interface SfuBenchOptions {
  publishers: number;
  subscribers: number;
  seconds: number;
  packetsPerSecond: number;
}

const CREDENTIALS = { accessKeyId: 'CHORUSBENCH', secretAccessKey: 'bench-secret' };

/**
 * N publishers each send `packetsPerSecond` synthetic VP8 packets; M subscribers
 * receive every publisher. The server runs as its own process, on loopback.
 */
export async function runSfuBench(options: SfuBenchOptions): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-'));
  const server = await spawnServer(['--port', '0', '--ice-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { CHORUS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
  });
  // spawnServer runs the CLI with `node --import tsx` directly, so this pid is the server itself.
  const serverPid = server.proc.pid!;
  const api = new ChimeSDKMeetingsClient({ region: 'us-east-1', endpoint: server.url, credentials: CREDENTIALS });
  const clients: HeadlessClient[] = [];
  try {
    const { Meeting } = await api.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: 'bench-sfu' }));
    const total = options.publishers + options.subscribers;
    const attendees = [];
    for (let i = 0; i < total; i += 100) {
      const { Attendees } = await api.send(new BatchCreateAttendeeCommand({
        MeetingId: Meeting!.MeetingId,
        Attendees: Array.from({ length: Math.min(100, total - i) }, (_, j) => ({ ExternalUserId: `bench-${i + j}` })),
      }));
      attendees.push(...Attendees!);
    }
    for (const attendee of attendees.slice(0, options.publishers)) {
      clients.push(await HeadlessClient.join(Meeting!, attendee, { publishVideo: true, packetsPerSecond: options.packetsPerSecond, packetBytes: 1000 }));
    }
    const subscribers: HeadlessClient[] = [];
    for (const attendee of attendees.slice(options.publishers)) {
      const client = await HeadlessClient.join(Meeting!, attendee, { receiveSlots: options.publishers });
      await client.subscribe(Meeting!.MediaPlacement!.AudioHostUrl!, client.latestSources(attendee.AttendeeId));
      subscribers.push(client);
      clients.push(client);
    }
    await Promise.all(clients.map((c) => c.connected()));
    await new Promise((r) => setTimeout(r, 2000));

    const receivedBefore = subscribers.reduce((n, c) => n + [...c.received.values()].reduce((a, b) => a + b, 0), 0);
    for (const c of subscribers) c.latenciesMs.length = 0;
    const cpuBefore = await cpuSeconds(serverPid);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = (await cpuSeconds(serverPid)) - cpuBefore;
    const rss = await rssMiB(serverPid);
    const forwarded = subscribers.reduce((n, c) => n + [...c.received.values()].reduce((a, b) => a + b, 0), 0) - receivedBefore;
    const latencies = subscribers.flatMap((c) => c.latenciesMs);
    const expected = options.publishers * options.subscribers * options.packetsPerSecond * elapsed;

    console.log(`\nSFU benchmark: ${options.publishers} publishers x ${options.subscribers} subscribers, ${options.packetsPerSecond} packets/s each, ${elapsed.toFixed(1)} s on loopback`);
    console.table({
      Chorus: {
        'server CPU %': +(100 * cpu / elapsed).toFixed(1),
        'RSS MiB': +rss.toFixed(1),
        'forwarded pkt/s': Math.round(forwarded / elapsed),
        'delivered %': +(100 * forwarded / expected).toFixed(1),
        'CPU µs/pkt': +(cpu * 1e6 / Math.max(1, forwarded)).toFixed(1),
        'latency p50 ms': +percentile(latencies, 50).toFixed(2),
        'latency p99 ms': +percentile(latencies, 99).toFixed(2),
      },
    });
    console.log('Latency is publisher send to subscriber receive, both in this process, so it includes the load generator.');
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    api.destroy();
    await server.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}
