import { availableParallelism } from 'node:os';
import { HeadlessClient } from '../src-main/client/headless-client.js';
import { createMeetingWithAttendees, userIds } from '../test/helpers/meetings.js';
import { startBenchServer } from './bench-server.js';
import { joinInParallel } from '../src-main/client/crowd.js';
import { analyseListener, silentMicrophone, speakerMicrophone, type Onset } from './audio-load.js';
import { lossFraction, ReceiverStats } from './load/rtp-stats.js';
import { cpuSeconds, percentile, rssMiB } from './proc-stats.js';
import { parseRtp } from '../src-main/server/media/rtp/rtp.js';

export interface MixerBenchOptions {
  attendees: number;
  speakers: number;
  seconds: number;
  /** Listeners whose received audio is decoded to measure latency. */
  sampledListeners: number;
}

const AUDIO_LEVEL_EXT = 1;

interface MixerStatsLine { ticks: number; tickMsP50: number; tickMsP99: number; tickMsMax: number; decodesPerTick: number; encodesPerTick: number; lateTicks: number }

/**
 * One meeting of `attendees` headless clients over real node-datachannel
 * connections: `speakers` of them talk (speech-like spurts, real Opus with
 * RFC 6464 levels), the rest send silence as a muted browser would. The server
 * is its own process; its CPU comes from /proc and its mixer cost from its log.
 */
export async function runMixerBench(options: MixerBenchOptions): Promise<void> {
  const server = await startBenchServer({ logLevel: 'debug' });
  const serverPid = server.pid;
  const api = server.api();
  let clients: HeadlessClient[] = [];
  const receivers = new ReceiverStats();
  const onsets: Onset[] = [];
  try {
    const { meeting: Meeting, attendees } = await createMeetingWithAttendees(api, 'bench-mixer', userIds('bench', options.attendees));
    const joinStarted = performance.now();
    const listeners = Math.max(0, options.attendees - options.speakers);
    const sampled = new Set(Array.from({ length: Math.min(options.sampledListeners, listeners) }, (_, k) => options.speakers + k));
    clients = await joinInParallel(options.attendees, (i) => HeadlessClient.join(Meeting!, attendees[i]!, {
      microphone: i < options.speakers ? speakerMicrophone(i, options.speakers, onsets) : silentMicrophone,
      audioLevelExtensionId: AUDIO_LEVEL_EXT,
      recordAudio: sampled.has(i),
      ignoreAudioMetadata: !sampled.has(i),
      onRtp: (kind, _mid, packet) => {
        if (kind !== 'audio') return;
        const info = parseRtp(packet);
        if (info) receivers.onPacket(String(i), info.sequenceNumber, info.timestamp, info.payloadLength, performance.now(), 48_000);
      },
    }));
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    await new Promise((r) => setTimeout(r, 3000));

    const statsFrom = server.stderr.length;
    const mark = receivers.mark();
    const started = performance.now();
    const loadCpuBefore = process.cpuUsage();
    const cpuBefore = await cpuSeconds(serverPid);
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    const received = receivers.since(mark);
    const elapsed = (performance.now() - started) / 1000;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const cpu = (await cpuSeconds(serverPid)) - cpuBefore;
    const rss = await rssMiB(serverPid);

    const stats: MixerStatsLine[] = server.stderr.slice(statsFrom)
      .map((line) => { try { return JSON.parse(line) as { event?: string } & MixerStatsLine; } catch { return undefined; } })
      .filter((l): l is { event?: string } & MixerStatsLine => l?.event === 'mixer_stats' && l.ticks > 0);
    const analyses = await Promise.all([...sampled].map((i) => analyseListener(clients[i]!, onsets, started)));
    const latencies = analyses.flatMap((a) => a.latencies);
    const dropouts = analyses.reduce((n, a) => n + a.dropouts, 0);
    const weighted = (pick: (s: MixerStatsLine) => number): number =>
      stats.reduce((a, s) => a + pick(s) * s.ticks, 0) / Math.max(1, stats.reduce((a, s) => a + s.ticks, 0));

    console.log(`\nMixer benchmark: ${options.attendees} attendees, ${options.speakers} speaking, ${elapsed.toFixed(1)} s on loopback (joined in ${joinSeconds.toFixed(1)} s)`);
    console.table({
      Chorus: {
        'server CPU %': +(100 * cpu / elapsed).toFixed(1),
        'RSS MiB': +rss.toFixed(1),
        'tick ms p50': +percentile(stats.map((s) => s.tickMsP50), 50).toFixed(3),
        'tick ms p99': +Math.max(0, ...stats.map((s) => s.tickMsP99)).toFixed(3),
        'decodes/tick': +weighted((s) => s.decodesPerTick).toFixed(2),
        'encodes/tick': +weighted((s) => s.encodesPerTick).toFixed(2),
        'late ticks': stats.reduce((a, s) => a + s.lateTicks, 0),
        // Seconds of audio covered (DTX packets stand for their silent gaps), and sequence-number loss.
        'delivered %': +(100 * received.audioSeconds / (options.attendees * elapsed)).toFixed(1),
        'loss %': +(100 * lossFraction(received)).toFixed(2),
        'pkt/s out': Math.round(received.packets / elapsed),
        'latency p50 ms': +percentile(latencies, 50).toFixed(1),
        'latency p99 ms': +percentile(latencies, 99).toFixed(1),
        'gaps/listener-min': +(dropouts / Math.max(1, analyses.length) / (elapsed / 60)).toFixed(1),
      },
    });
    console.log(`Latency: speaker's send of a talk spurt's first frame to its first audible frame at ${sampled.size} listeners (${latencies.length} onsets); it includes the 40 ms jitter buffer and up to 20 ms of tick alignment. Gaps: sound that restarted mid-spurt at those listeners.`);
    console.log(`The load generator (this process, ${options.attendees} clients) used ${(100 * (loadCpu.user + loadCpu.system) / 1e6 / elapsed).toFixed(0)} % CPU on the same machine (${availableParallelism()} cores).`);
    if (stats.length === 0) console.log('No mixer_stats lines were logged: the window was shorter than one 5 s report.');
  } finally {
    await Promise.all(clients.filter(Boolean).map((c) => c.close()));
    api.destroy();
    await server.stop();
  }
}
