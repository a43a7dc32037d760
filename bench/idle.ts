import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../test/helpers/server-process.js';
import { startBenchServer, type BenchServer } from './bench-server.js';
import { localIceAddress, startJanus } from './compare/janus-process.js';
import { memoryBreakdown } from './proc-stats.js';

/**
 * `npm run bench idle`: what a server holds before anyone joins, side by side:
 * Chorus as `npm run server` runs it (the esbuild bundle), Chorus through the
 * TypeScript loader (as it ran before), and Janus with the benchmark's config.
 */

const SETTLE_MS = 4000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

interface Row { server: string; rss: string; anonymous: string; file: string; 'V8 heap used / total': string; 'external (WASM Opus)': string }

function heapOf(stderr: string[]): { heapUsed: number; heapTotal: number; external: number } | undefined {
  for (const line of stderr) {
    if (!line.includes('"runtime_memory"')) continue;
    const m = JSON.parse(line) as { heapUsed: number; heapTotal: number; external: number };
    return m;
  }
  return undefined;
}

async function chorusRow(label: string, server: { pid: number; stderr: string[] }): Promise<Row> {
  await sleep(SETTLE_MS);
  const mem = await memoryBreakdown(server.pid);
  const heap = heapOf(server.stderr);
  return {
    server: label, rss: mem.rss.toFixed(1), anonymous: mem.anonymous.toFixed(1), file: mem.file.toFixed(1),
    'V8 heap used / total': heap ? `${mib(heap.heapUsed)} / ${mib(heap.heapTotal)}` : '–',
    'external (WASM Opus)': heap ? mib(heap.external) : '–',
  };
}

export async function runIdleBench(): Promise<void> {
  const rows: Row[] = [];
  const bundled: BenchServer = await startBenchServer({ logLevel: 'debug' });
  try {
    rows.push(await chorusRow('Chorus (bundle, as npm run server)', bundled));
  } finally {
    await bundled.stop();
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-idle-'));
  try {
    const loader = await spawnServer(['--port', '0', '--ice-host', '127.0.0.1', '--log-level', 'debug', '--data-dir', dataDir]);
    try {
      rows.push(await chorusRow('Chorus (TypeScript loader, tsx)', { pid: loader.proc.pid!, stderr: loader.stderr }));
    } finally {
      await loader.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  try {
    const janus = await startJanus({ httpPort: 18188, rtpBase: 30000, iceAddress: localIceAddress() });
    try {
      await sleep(SETTLE_MS);
      const mem = await memoryBreakdown(janus.pid);
      rows.push({ server: 'Janus 1.1.2 (videoroom + audiobridge)', rss: mem.rss.toFixed(1), anonymous: mem.anonymous.toFixed(1), file: mem.file.toFixed(1), 'V8 heap used / total': '–', 'external (WASM Opus)': '–' });
    } finally {
      await janus.stop();
    }
  } catch (error) {
    console.log(`Janus not measured: ${(error as Error).message}`);
  }
  console.log('\nIdle server memory (MiB), before anyone joins, after a 4 s settle:');
  console.table(rows);
}
