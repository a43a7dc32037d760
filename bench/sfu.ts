import { HeadlessClient } from '../src-main/client/headless-client.js';
import { createMeetingWithAttendees, userIds } from '../test/helpers/meetings.js';
import { startBenchServer } from './bench-server.js';
import { cpuSeconds, percentile, rssMiB } from './proc-stats.js';

export interface SfuBenchOptions {
  publishers: number;
  subscribers: number;
  seconds: number;
  packetsPerSecond: number;
}

/**
 * N publishers each send `packetsPerSecond` synthetic VP8 packets; M subscribers
 * receive every publisher. The server runs as its own process, on loopback.
 */
export async function runSfuBench(options: SfuBenchOptions): Promise<void> {
  const server = await startBenchServer({ logLevel: 'warn' });
  const serverPid = server.pid;
  const api = server.api();
  const clients: HeadlessClient[] = [];
  try {
    const { meeting: Meeting, attendees } = await createMeetingWithAttendees(api, 'bench-sfu', userIds('bench', options.publishers + options.subscribers));
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
    await server.stop();
  }
}
