import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadVp8Clip } from '../load/vp8-clip.js';
import { chorusSide } from './chorus-side.js';
import { runScenario, type ServerSide } from './driver.js';
import { janusSide } from './janus-side.js';
import { renderChart } from './chart.js';
import { buildReport, markdownReport, type CompareConditions, type CompareReport } from './report.js';
import { FULL_SCENARIOS, QUICK_SCENARIOS } from './scenarios.js';
import type { RunMetrics } from './stats.js';

export interface CompareOptions {
  quick: boolean;
  repetitions: number;
  seconds: number;
  /** Only these scenario ids (all of the set when empty). */
  only: string[];
  pin: boolean;
  outDir: string;
}

/** Pins this process (every thread) to `cpu`; false where taskset is missing or refused. */
function pinSelf(cpu: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm run bench compare`: every scenario on Chorus and on Janus, alternating A B A B,
 * the median of the repetitions reported, results written to bench/results/.
 */
export async function runCompare(options: CompareOptions): Promise<void> {
  const cores = availableParallelism();
  const pinned = options.pin && cores >= 2 && pinSelf('0');
  const serverCpus = pinned ? '1' : undefined;
  const sides: ServerSide[] = [chorusSide(serverCpus), janusSide(serverCpus)];
  const clip = await loadVp8Clip();
  const scenarios = (options.quick ? QUICK_SCENARIOS : FULL_SCENARIOS).filter((s) => options.only.length === 0 || options.only.includes(s.id));
  const loadBefore = loadavg();
  const started = new Date();
  console.log(`Comparing Chorus and Janus: ${scenarios.map((s) => s.id).join(', ')}; ${options.repetitions} repetition(s) of ${options.seconds} s; ${clip.description}`);
  console.log(pinned ? 'Servers pinned to CPU 1, load generator to CPU 0.' : 'Not pinned (taskset unavailable, one core, or --no-pin).');
  const runs: RunMetrics[] = [];
  const failures: { server: string; scenario: string; repetition: number; error: string }[] = [];
  for (const scenario of scenarios) {
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const side of sides) {
        const t = performance.now();
        try {
          const m = await runScenario(side, scenario, clip, options.seconds, rep);
          runs.push(m);
          console.log(`${scenario.id} #${rep + 1} ${side.name}: CPU ${(100 * m.cpu).toFixed(1)} %, loss ${m.lossPct.toFixed(2)} %, ` +
            `audio ${m.audioDeliveredPct?.toFixed(1) ?? '-'} % / video ${m.videoDeliveredPct?.toFixed(1) ?? '-'} % delivered, ` +
            `latency p50 ${m.latencyP50Ms?.toFixed(1) ?? '-'} ms (${((performance.now() - t) / 1000).toFixed(0)} s)`);
        } catch (error) {
          failures.push({ server: side.name, scenario: scenario.id, repetition: rep, error: (error as Error).message.slice(0, 500) });
          console.log(`${scenario.id} #${rep + 1} ${side.name}: FAILED ${(error as Error).message.slice(0, 300)}`);
        }
      }
    }
  }
  const conditions: CompareConditions = {
    startedAt: started.toISOString(), finishedAt: new Date().toISOString(),
    machine: `${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`,
    loadAverageBefore: loadBefore.map((l) => +l.toFixed(2)), loadAverageAfter: loadavg().map((l) => +l.toFixed(2)),
    pinned, repetitions: options.repetitions, secondsPerRun: options.seconds, quick: options.quick,
    video: clip.description,
    audio: 'speech-like spurts (voiced 3-harmonic tone, 4 Hz syllable envelope), real Opus 16 kHz encoded once by libopus-wasm and replayed; silent attendees send silence as a browser does: 3-byte Opus silence frames 50 a second, or, where the answer from the server has usedtx=1 (Chorus), one silence frame then a 1-byte DTX frame every 400 ms; RFC 6464 levels on every packet',
    janus: `Janus 1.1.2 (Debian): HTTP transport on 127.0.0.1; videoroom + audiobridge only; AudioBridge rooms at 16 kHz, quality (Opus complexity) 4 by default, prebuffering 2 packets; participants are WebRTC (node-datachannel), ICE on the host's own IPv4 because Janus skips loopback when gathering`,
    failures,
  };
  const report = buildReport(scenarios, runs, conditions);
  await mkdir(options.outDir, { recursive: true });
  // A run of some scenarios only must not overwrite the full results.
  const stem = options.quick ? 'compare-quick' : options.only.length > 0 ? 'compare-partial' : 'compare';
  await writeFile(join(options.outDir, `${stem}.json`), JSON.stringify({ ...report, runs }, null, 2) + '\n');
  await writeFile(join(options.outDir, `${stem}.md`), markdownReport(report));
  await writeFile(join(options.outDir, `${stem}.png`), renderChart(report));
  console.log('\n' + markdownReport(report));
  console.log(`Wrote ${join(options.outDir, stem)}.{json,md,png}`);
}

/** Rewrites the markdown and PNG of a stored result (e.g. after a change to their format), without measuring. */
export async function renderStored(jsonFile: string): Promise<void> {
  const report = JSON.parse(await readFile(jsonFile, 'utf8')) as CompareReport;
  const stem = jsonFile.replace(/\.json$/, '');
  await writeFile(`${stem}.md`, markdownReport(report));
  await writeFile(`${stem}.png`, renderChart(report));
  console.log(`Wrote ${stem}.{md,png} from ${jsonFile}`);
}
