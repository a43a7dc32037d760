import { analyseListener, preEncodedSpeaker, type Onset } from '../audio-load.js';
import { AudioRecorder, LoadAccounting } from '../load/accounting.js';
import { lossFraction } from '../load/rtp-stats.js';
import { opusSender, sentPackets, videoSending, type MediaSenderFactory } from '../load/senders.js';
import type { Vp8Clip } from '../load/vp8-clip.js';
import { cpuSeconds, peakRssMiB, rssMiB } from '../proc-stats.js';
import { audioReceivers, videoFanout, type Scenario } from './scenarios.js';
import { percentile, type RunMetrics } from './stats.js';

/** What a server side needs to join a scenario's attendees: the shared media and accounting. */
export interface LoadContext {
  accounting: LoadAccounting;
  clip: Vp8Clip;
  /** Attendee i's audio source (a speaker's pre-encoded speech, or silence frames). */
  audioSender(i: number): MediaSenderFactory;
  /** Recorder for attendee i if it is a sampled listener. */
  recorder(i: number): AudioRecorder | undefined;
  /** Attendees that speak (indices). */
  speakers: number;
}

export interface RunningServer { pid: number; stop(): Promise<void> }
export interface JoinedLoad { close(): Promise<void> }

/** One server under test: Chorus through Chime signaling, or Janus through its HTTP API. */
export interface ServerSide {
  name: 'chorus' | 'janus';
  start(): Promise<RunningServer>;
  join(server: RunningServer, scenario: Scenario, load: LoadContext): Promise<JoinedLoad>;
}

const SAMPLED_LISTENERS = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Index of the first listener (non-speaker) in a scenario's attendee order. */
function firstListener(scenario: Scenario): number {
  // Mixed meetings: publishers come first and the first `speakers` of them talk; sample audio-only attendees.
  return scenario.kind === 'mixed' ? scenario.publishers : scenario.kind === 'audio' ? scenario.speakers : 0;
}

/**
 * Starts the server, joins the scenario, lets it settle, measures a window, tears down.
 * Same steps and same media for every server.
 */
/** The media and accounting a scenario's attendees share: the same on every server. */
export async function prepareLoad(scenario: Scenario, clip: Vp8Clip): Promise<{ load: LoadContext; onsets: Onset[]; recorders: Map<number, AudioRecorder>; accounting: LoadAccounting }> {
  const onsets: Onset[] = [];
  const speakers = scenario.kind === 'video' ? 0 : scenario.speakers;
  const speech = await Promise.all(Array.from({ length: speakers }, (_, k) => preEncodedSpeaker(k, speakers, onsets)));
  const accounting = new LoadAccounting();
  const recorders = new Map<number, AudioRecorder>();
  if (scenario.kind !== 'video') {
    const from = firstListener(scenario);
    for (let k = 0; k < SAMPLED_LISTENERS; k++) recorders.set(from + k, new AudioRecorder());
  }
  const load: LoadContext = {
    accounting, clip, speakers,
    audioSender: (i) => (i < speakers ? opusSender(speech[i]!.frames, speech[i]!.onSent) : opusSender([null])),
    recorder: (i) => recorders.get(i),
  };
  return { load, onsets, recorders, accounting };
}

export async function runScenario(side: ServerSide, scenario: Scenario, clip: Vp8Clip, seconds: number, repetition: number): Promise<RunMetrics> {
  const { load, onsets, recorders, accounting } = await prepareLoad(scenario, clip);
  const server = await side.start();
  let joined: JoinedLoad | undefined;
  try {
    joined = await side.join(server, scenario, load);
    // Settle: joins are CPU-heavy (DTLS), and a server that fell behind catches up here, not in the window.
    await sleep(5000);
    const mark = accounting.stats.mark();
    const sentBefore = { ...sentPackets };
    const audioBefore = countByKind(accounting);
    const loadCpuBefore = process.cpuUsage();
    const cpuBefore = await cpuSeconds(server.pid);
    const started = performance.now();
    accounting.measuring = true;
    await sleep(seconds * 1000);
    accounting.measuring = false;
    const elapsed = (performance.now() - started) / 1000;
    const cpu = ((await cpuSeconds(server.pid)) - cpuBefore) / elapsed;
    const loadCpuUsage = process.cpuUsage(loadCpuBefore);
    const totals = accounting.stats.since(mark);
    const audioAfter = countByKind(accounting);
    const peak = await peakRssMiB(server.pid);
    const rssNow = await rssMiB(server.pid);
    // A second, shorter window with every camera paused: what the meeting costs without video
    // (its audio stream, mixer and timers), so the per-packet figure can leave that out.
    const fanoutNow = videoFanout(scenario);
    let cpuWithoutVideo: number | null = null;
    if (fanoutNow > 0) {
      videoSending.paused = true;
      try {
        await sleep(1500);
        const before = await cpuSeconds(server.pid);
        const t0 = performance.now();
        await sleep((seconds * 1000) / 2);
        cpuWithoutVideo = ((await cpuSeconds(server.pid)) - before) / ((performance.now() - t0) / 1000);
      } finally {
        videoSending.paused = false;
      }
    }
    const videoSent = sentPackets.video - sentBefore.video;
    const videoReceived = audioAfter.video - audioBefore.video;
    const audioReceived = audioAfter.audio - audioBefore.audio;
    const analyses = await Promise.all([...recorders.values()].map((r) => analyseListener(r, onsets, started)));
    const audioLatencies = analyses.flatMap((a) => a.latencies);
    const latencies = scenario.kind === 'video' ? accounting.videoLatenciesMs : audioLatencies;
    const fanout = videoFanout(scenario);
    // Seconds of audio every receiver should have got; DTX packets cover their gaps by timestamp.
    const audioExpectedSeconds = audioReceivers(scenario, side.name) * elapsed;
    return {
      server: side.name, scenario: scenario.id, repetition, seconds: elapsed,
      cpu, loadCpu: (loadCpuUsage.user + loadCpuUsage.system) / 1e6 / elapsed,
      peakRssMiB: peak,
      videoPacketsPerSec: videoReceived / elapsed,
      audioPacketsPerSec: audioReceived / elapsed,
      bytesPerSec: totals.bytes / elapsed,
      videoDeliveredPct: fanout > 0 ? (100 * videoReceived) / Math.max(1, videoSent * fanout) : null,
      audioDeliveredPct: audioExpectedSeconds > 0 ? (100 * totals.audioSeconds) / audioExpectedSeconds : null,
      lossPct: 100 * lossFraction(totals),
      jitterMs: totals.jitterMs,
      latencyP50Ms: latencies.length ? percentile(latencies, 50) : null,
      latencyP99Ms: latencies.length ? percentile(latencies, 99) : null,
      gapsPerListenerMin: analyses.length ? analyses.reduce((n, a) => n + a.dropouts, 0) / analyses.length / (elapsed / 60) : null,
      cpuUsPerVideoPacket: videoReceived > 0 ? (cpu * elapsed * 1e6) / videoReceived : null,
      cpuUsPerPacketOut: videoReceived + audioReceived > 0 ? (cpu * elapsed * 1e6) / (videoReceived + audioReceived) : null,
      cpuWithoutVideo,
      cpuUsPerVideoPacketNet: cpuWithoutVideo !== null && videoReceived > 0 ? (Math.max(0, cpu - cpuWithoutVideo) * elapsed * 1e6) / videoReceived : null,
      rssMiB: rssNow,
    };
  } finally {
    await joined?.close();
    await server.stop();
  }
}

/** Packets received so far, split by kind (the accounting keys streams by receiver and SSRC). */
function countByKind(accounting: LoadAccounting): { audio: number; video: number } {
  return { audio: accounting.audioPackets, video: accounting.videoPackets };
}
