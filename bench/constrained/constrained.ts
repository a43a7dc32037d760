import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { joinInParallel } from '../../src-main/client/crowd.js';
import { createMeetingWithAttendees, userIds } from '../../test/helpers/meetings.js';
import { startBenchServer } from '../bench-server.js';
import { JanusSession } from '../compare/janus-api.js';
import { janusPeerBinding, publishVideoRoom, type JanusPeer } from '../compare/janus-peers.js';
import { startJanus } from '../compare/janus-process.js';
import { waitForSources } from '../compare/chorus-side.js';
import { createAudioRoom, createVideoRoom } from '../compare/janus-side.js';
import { vp8Sender } from '../load/senders.js';
import { loadVp8Clip, type Vp8Clip } from '../load/vp8-clip.js';
import type { ViewerConfig, ViewerSummary } from './viewer.js';

/**
 * `npm run bench constrained`: the same meeting on Chorus and on Janus, with viewers behind real
 * rate-limited links. Publishers send the bench's VP8 clip (640x360, 15 fps, 500 kbps) from this
 * namespace; each viewer runs in its own network namespace behind a veth pair with a tbf limit
 * (`../shared/tools/netns-link`), receives every camera and the audio, and reports what it could
 * show (bench/constrained/reception.ts). Needs root. Janus's VideoRoom forwards every camera
 * whatever the link; Chorus estimates each viewer's downlink and pauses what does not fit.
 */

export interface ConstrainedOptions {
  publishers: number;
  /** One viewer per rate, tbf syntax (500kbit, 1mbit, ...). */
  rates: string[];
  warmupS: number;
  measureS: number;
  servers: ('chorus' | 'janus')[];
  outDir: string;
}

interface Row { server: 'chorus' | 'janus'; rate: string; summary: ViewerSummary | null; error?: string }

const TOOL = process.env.NETNS_LINK ?? resolve('../shared/tools/netns-link');
/** Namespace indexes of this bench (the test suites use 150-239). */
const FIRST_INDEX = 241;
const VIEWER_SCRIPT = fileURLToPath(new URL('./viewer.ts', import.meta.url));
const VIDEO_ROOM = 3001;
const AUDIO_ROOM = 3002;

const namespaceOf = (k: number): string => `cbench${k}`;
const viewerAddress = (k: number): string => `10.200.${FIRST_INDEX + k}.2`;
/** The servers listen on the first link's host side; every namespace reaches it through its own link. */
const SERVER_ADDRESS = `10.200.${FIRST_INDEX}.1`;

export async function runConstrainedBench(o: ConstrainedOptions): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync(TOOL)) {
    console.error(`The constrained-network benchmark needs root and ${TOOL} (set NETNS_LINK to its path).`);
    process.exitCode = 2;
    return;
  }
  const clip = await loadVp8Clip();
  console.log(`Constrained links: ${o.publishers} cameras (${clip.description}); viewers behind ${o.rates.join(', ')}; ${o.warmupS} s to settle, ${o.measureS} s measured; ${o.servers.join(' and ')}`);
  const down = (): void => {
    for (let k = 0; k < o.rates.length; k++) {
      try {
        execFileSync(TOOL, ['down', namespaceOf(k)], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  };
  const onSignal = (): void => {
    down();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: Row[] = [];
  try {
    down();
    o.rates.forEach((rate, k) => execFileSync(TOOL, ['up', namespaceOf(k), String(FIRST_INDEX + k), rate], { stdio: 'ignore' }));
    for (const server of o.servers) {
      const results = server === 'chorus' ? await runChorus(o, clip) : await runJanus(o, clip);
      results.forEach((result, k) => rows.push({ server, rate: o.rates[k]!, ...result }));
    }
  } finally {
    down();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const markdown = renderTable(rows, o);
  console.log(`\n${markdown}`);
  await mkdir(o.outDir, { recursive: true });
  await writeFile(join(o.outDir, 'constrained.json'), JSON.stringify({ options: o, video: clip.description, rows }, null, 2));
  await writeFile(join(o.outDir, 'constrained.md'), `${markdown}\n`);
  console.log(`written to ${join(o.outDir, 'constrained.{json,md}')}`);
}

type ViewerResult = { summary: ViewerSummary | null; error?: string };

async function runChorus(o: ConstrainedOptions, clip: Vp8Clip): Promise<ViewerResult[]> {
  const server = await startBenchServer({ logLevel: 'warn', host: SERVER_ADDRESS });
  const api = server.api();
  const publishers: HeadlessClient[] = [];
  try {
    const { meeting, attendees } = await createMeetingWithAttendees(api, `constrained-${Date.now()}`, userIds('cb', o.publishers + o.rates.length));
    publishers.push(...await joinInParallel(o.publishers, (i) => HeadlessClient.join(meeting!, attendees[i]!, {
      publishVideo: true, videoSender: vp8Sender(clip, i * 7), bindAddress: SERVER_ADDRESS, recordAudio: false, ignoreAudioMetadata: true, tls: server.tls?.pinned,
    })));
    await waitForSources(publishers[0]!, o.publishers);
    return await runViewers(o, (k) => ({
      server: 'chorus', meeting: meeting!, attendee: attendees[o.publishers + k]!, cameras: o.publishers, serverUrl: server.url, fingerprint256: server.tls?.fingerprint256,
      bindAddress: viewerAddress(k), warmupS: o.warmupS, measureS: o.measureS,
    }));
  } finally {
    await Promise.all(publishers.map((p) => p.close()));
    api.destroy();
    await server.stop();
  }
}

async function runJanus(o: ConstrainedOptions, clip: Vp8Clip): Promise<ViewerResult[]> {
  // Janus gathers on the host side of every link: a viewer whose only candidate pair crossed to
  // another link's address never connected (libnice), while Chorus's single address serves all.
  const linkAddresses = o.rates.map((_, k) => `10.200.${FIRST_INDEX + k}.1`).join(',');
  const janus = await startJanus({ httpPort: 18190, rtpBase: 40000, iceAddress: linkAddresses, httpAddress: SERVER_ADDRESS });
  janusPeerBinding.address = SERVER_ADDRESS;
  const peers: JanusPeer[] = [];
  let session: JanusSession | undefined;
  try {
    session = await JanusSession.create(janus.apiUrl);
    await createVideoRoom(session, VIDEO_ROOM, Math.max(16, o.publishers));
    await createAudioRoom(session, AUDIO_ROOM);
    const live = session;
    peers.push(...await joinInParallel(o.publishers, (i) => publishVideoRoom(live, VIDEO_ROOM, { display: `cam-${i}`, sender: vp8Sender(clip, i * 7) })));
    const feeds = peers.map((p) => p.id);
    return await runViewers(o, (k) => ({
      server: 'janus', apiUrl: janus.apiUrl, videoRoom: VIDEO_ROOM, audioRoom: AUDIO_ROOM, feeds, display: `viewer-${k}`,
      bindAddress: viewerAddress(k), warmupS: o.warmupS, measureS: o.measureS,
    }));
  } finally {
    await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
    await session?.destroy().catch(() => undefined);
    await janus.stop();
  }
}

/** Starts every viewer in its namespace at once and waits for their summaries. */
function runViewers(o: ConstrainedOptions, configOf: (k: number) => ViewerConfig): Promise<ViewerResult[]> {
  return Promise.all(o.rates.map((_, k) => new Promise<ViewerResult>((done) => {
    const child = spawn('ip', ['netns', 'exec', namespaceOf(k), process.execPath, '--import', 'tsx', VIEWER_SCRIPT, JSON.stringify(configOf(k))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Joining, the warmup and the window, with room for a slow join.
    const killer = setTimeout(() => child.kill('SIGKILL'), (o.warmupS + o.measureS + 60) * 1000);
    child.on('exit', () => {
      clearTimeout(killer);
      const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'));
      if (line) done({ summary: (JSON.parse(line) as { summary: ViewerSummary }).summary });
      else done({ summary: null, error: stderr.trim().split('\n').slice(0, 2).join(' ') || 'no summary' });
    });
  })));
}

function renderTable(rows: Row[], o: ConstrainedOptions): string {
  const header = '| link | server | video received, kbit/s | videos received / playing (of ' + o.publishers + ') | frames shown per s (all videos) | frozen, % of received videos\' time | size shown | paused, announced | audio loss, % |';
  const lines = [header, '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const rate of o.rates) {
    for (const server of o.servers) {
      const row = rows.find((r) => r.rate === rate && r.server === server);
      const s = row?.summary;
      if (!s) {
        lines.push(`| ${rate} | ${server} | failed: ${row?.error ?? 'not run'} | | | | | | |`);
        continue;
      }
      lines.push(`| ${rate} | ${server} | ${s.kbps.toFixed(0)} | ${s.receiving} / ${s.playing} | ${s.fps.toFixed(1)} | ${s.frozenPct.toFixed(1)} | ${s.resolution} | ${s.pausedVideos ?? '-'} | ${s.audioLossPct === null ? '-' : s.audioLossPct.toFixed(2)} |`);
    }
  }
  return lines.join('\n');
}
