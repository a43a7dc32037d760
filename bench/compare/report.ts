import { attendeesOf, type Scenario } from './scenarios.js';
import { capacity, medianRun, ratio, type RunMetrics } from './stats.js';

export interface CompareConditions {
  startedAt: string;
  finishedAt: string;
  machine: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  pinned: boolean;
  repetitions: number;
  secondsPerRun: number;
  quick: boolean;
  video: string;
  audio: string;
  janus: string;
  failures: { server: string; scenario: string; repetition: number; error: string }[];
}

export interface ScenarioResult {
  scenario: Scenario;
  attendees: number;
  chorus: RunMetrics | null;
  janus: RunMetrics | null;
  /** Janus CPU / Chorus CPU: above 1 means Chorus is cheaper. */
  cpuRatioJanusOverChorus: number | null;
}

export interface CompareReport {
  conditions: CompareConditions;
  results: ScenarioResult[];
  capacity: Record<'audio' | 'video', Record<'chorus' | 'janus', { largest: number | null; attendeesPerCore: number | null }>>;
  goals: {
    /** Chorus audio attendees per core / AudioBridge's, at the largest audio meeting both sustained. */
    audioAttendeesPerCoreRatio: number | null;
    audioComparedAt: number | null;
    /** Chorus CPU per forwarded video packet / VideoRoom's, per video scenario (goal: <= 1). */
    videoCpuPerPacketRatio: Record<string, number | null>;
    /** The same with each server's CPU without video (Chorus's audio stream and mixer) taken out first. */
    videoNetCpuPerPacketRatio?: Record<string, number | null>;
  };
}

export function buildReport(scenarios: readonly Scenario[], runs: readonly RunMetrics[], conditions: CompareConditions): CompareReport {
  const medianOf = (server: 'chorus' | 'janus', id: string): RunMetrics | null => {
    const rs = runs.filter((r) => r.server === server && r.scenario === id);
    return rs.length ? medianRun(rs) : null;
  };
  const results = scenarios.map((scenario): ScenarioResult => {
    const chorus = medianOf('chorus', scenario.id);
    const janus = medianOf('janus', scenario.id);
    return { scenario, attendees: attendeesOf(scenario), chorus, janus, cpuRatioJanusOverChorus: ratio(janus?.cpu, chorus?.cpu) };
  });
  const family = (kind: 'audio' | 'video', server: 'chorus' | 'janus') => capacity(
    results.filter((r) => r.scenario.kind === kind && r[server]).map((r) => ({ scenario: r.scenario, metrics: r[server]! })), attendeesOf);
  // Equal quality: the largest audio meeting both servers carried within the budget.
  const bothAudio = results.filter((r) => r.scenario.kind === 'audio' && r.chorus && r.janus
    && capacity([{ scenario: r.scenario, metrics: r.chorus }], attendeesOf).largest !== null
    && capacity([{ scenario: r.scenario, metrics: r.janus }], attendeesOf).largest !== null).at(-1);
  const perCore = (m: RunMetrics | null | undefined, n: number): number | null => (m && m.cpu > 0 ? n / m.cpu : null);
  return {
    conditions,
    results,
    capacity: {
      audio: { chorus: family('audio', 'chorus'), janus: family('audio', 'janus') },
      video: { chorus: family('video', 'chorus'), janus: family('video', 'janus') },
    },
    goals: {
      audioAttendeesPerCoreRatio: bothAudio ? ratio(perCore(bothAudio.chorus, bothAudio.attendees), perCore(bothAudio.janus, bothAudio.attendees)) : null,
      audioComparedAt: bothAudio?.attendees ?? null,
      videoCpuPerPacketRatio: Object.fromEntries(results.filter((r) => r.scenario.kind !== 'audio')
        .map((r) => [r.scenario.id, ratio(r.chorus?.cpuUsPerVideoPacket, r.janus?.cpuUsPerVideoPacket)])),
      videoNetCpuPerPacketRatio: Object.fromEntries(results.filter((r) => r.scenario.kind !== 'audio')
        .map((r) => [r.scenario.id, ratio(r.chorus?.cpuUsPerVideoPacketNet, r.janus?.cpuUsPerVideoPacketNet)])),
    },
  };
}

const f = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pair = (a: number | null | undefined, b: number | null | undefined, digits = 1): string => `${f(a, digits)} / ${f(b, digits)}`;

function delivered(m: RunMetrics): string {
  const parts = [];
  if (m.audioDeliveredPct !== null) parts.push(`A ${f(m.audioDeliveredPct)}`);
  if (m.videoDeliveredPct !== null) parts.push(`V ${f(m.videoDeliveredPct)}`);
  return parts.join(', ') || '–';
}

export function markdownReport(report: CompareReport): string {
  const c = report.conditions;
  const lines = [
    `# Chorus vs Janus${c.quick ? ' (quick set)' : ''}`,
    '',
    `Run ${c.startedAt} to ${c.finishedAt} on ${c.machine}. ${c.pinned ? 'Each server pinned to CPU 1 and the load generator to CPU 0 with taskset' : 'Not pinned'}; ` +
      `other work shared the machine (load average ${c.loadAverageBefore.join(', ')} before, ${c.loadAverageAfter.join(', ')} after). ` +
      `Runs alternate Chorus, Janus, Chorus, Janus; each figure is the median of ${c.repetitions} run(s) of ${c.secondsPerRun} s.`,
    '',
    `- Video: ${c.video}.`,
    `- Audio: ${c.audio}.`,
    `- Janus: ${c.janus}.`,
    '',
    '| meeting | server | CPU (core-s/s) | CPU without video | peak RSS MiB | video pkt/s | audio pkt/s | Mbit/s | delivered % | loss % | jitter ms | latency p50 / p99 ms | audible gaps per listener-min | µs CPU per video pkt | µs per video pkt, without-video CPU taken out | µs CPU per pkt out | load gen CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report.results) {
    for (const server of ['chorus', 'janus'] as const) {
      const m = r[server];
      if (!m) {
        lines.push(`| ${r.scenario.id} | ${server} | failed | | | | | | | | | | | | | | |`);
        continue;
      }
      lines.push(`| ${r.scenario.id} | ${server === 'chorus' ? 'Chorus' : 'Janus'} | ${f(m.cpu, 3)} | ${f(m.cpuWithoutVideo, 3)} | ${f(m.peakRssMiB, 0)} | ${f(m.videoPacketsPerSec, 0)} | ${f(m.audioPacketsPerSec, 0)} | ` +
        `${f((m.bytesPerSec * 8) / 1e6, 2)} | ${delivered(m)} | ${f(m.lossPct, 2)} | ${f(m.jitterMs, 1)} | ${pair(m.latencyP50Ms, m.latencyP99Ms)} | ${f(m.gapsPerListenerMin, 1)} | ${f(m.cpuUsPerVideoPacket, 1)} | ${f(m.cpuUsPerVideoPacketNet, 1)} | ${f(m.cpuUsPerPacketOut, 1)} | ${f(m.loadCpu, 2)} |`);
    }
  }
  const cap = (k: 'audio' | 'video', s: 'chorus' | 'janus'): string => {
    const v = report.capacity[k][s];
    return v.largest === null ? 'none of the tested sizes' : `${v.largest} attendees (${f(v.attendeesPerCore, 0)} attendees per core there)`;
  };
  lines.push('', '## Within one core, loss <= 1 %', '',
    `- Audio: Chorus ${cap('audio', 'chorus')}; Janus AudioBridge ${cap('audio', 'janus')}.`,
    `- Video: Chorus ${cap('video', 'chorus')}; Janus VideoRoom ${cap('video', 'janus')}.`,
    '', '## Goals', '',
    `- Audio attendees per core, Chorus / AudioBridge (goal >= 5): ${f(report.goals.audioAttendeesPerCoreRatio, 1)}` +
      (report.goals.audioComparedAt ? ` at ${report.goals.audioComparedAt} attendees, the largest meeting both sustained.` : ' (no audio size both sustained).'),
    `- CPU per forwarded video packet, Chorus / VideoRoom (goal <= 1): ${Object.entries(report.goals.videoCpuPerPacketRatio).map(([id, v]) => `${id} ${f(v, 2)}`).join(', ') || '–'}.`,
    `- The same with each server's CPU without video taken out first (Chorus's audio stream, mixer and timers): ${Object.entries(report.goals.videoNetCpuPerPacketRatio ?? {}).map(([id, v]) => `${id} ${f(v, 2)}`).join(', ') || '–'}.`,
  );
  if (c.failures.length) {
    lines.push('', '## Failed runs', '', ...c.failures.map((x) => `- ${x.scenario} #${x.repetition + 1} ${x.server}: ${x.error.replace(/\s+/g, ' ').slice(0, 200)}`));
  }
  return lines.join('\n') + '\n';
}
