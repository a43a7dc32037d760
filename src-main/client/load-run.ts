import { joinThroughApp, type AppMeetingTarget } from './app-join.js';
import { joinInParallel } from './crowd.js';
import { HeadlessClient } from './headless-client.js';
import { toneMicrophone, type Microphone } from './microphone.js';

/**
 * A load test against a running meeting: N headless attendees join through the
 * meeting's invite link, some publish synthetic video, some speak real Opus,
 * everyone subscribes to the videos, and what each receives is measured.
 */
export interface LoadOptions {
  target: AppMeetingTarget;
  attendees: number;
  /** How many of them publish video. */
  video: number;
  /** How many of them speak (a tone each); the rest send silence as a muted browser does. */
  speakers: number;
  /** Remote videos each attendee receives at most. */
  receive: number;
  seconds: number;
  /** Synthetic video packets per second per publisher (1000 bytes each). */
  videoPacketsPerSecond: number;
  /** How many join at once. */
  concurrency?: number;
  /** Progress lines (one per join batch and per second of the run); default none. */
  log?(line: string): void;
}

export interface LoadReport {
  joined: number;
  failedJoins: string[];
  joinMs: { p50: number; p95: number };
  /** Attendees whose session the server closed during the run, with the code. */
  closed: { name: string; code: number }[];
  /** Per second, over the measured window, summed over all attendees. */
  videoPacketsPerSecond: number;
  audioPacketsPerSecond: number;
  /** Video packets an attendee would get if every subscribed publisher's packets arrived. */
  expectedVideoPacketsPerSecond: number;
  videoLatencyMs: { p50: number; p99: number };
  /** Attendees that received audio / video during the window. */
  hearingAudio: number;
  seeingVideo: number;
}

const silent: Microphone = { frame: () => null };
const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

interface Joined {
  client: HeadlessClient;
  name: string;
  attendeeId: string;
}

const totalVideo = (client: HeadlessClient): number => {
  let n = 0;
  for (const count of client.received.values()) n += count;
  return n;
};

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const failedJoins: string[] = [];
  const joinMs: number[] = [];
  let live: Joined[] = [];
  try {
    const joined = await joinInParallel(options.attendees, async (i): Promise<Joined | undefined> => {
      const name = `Load ${String(i + 1).padStart(3, '0')}`;
      const started = performance.now();
      try {
        const { meeting, attendee } = await joinThroughApp(options.target, name);
        const client = await HeadlessClient.join(meeting, attendee, {
          publishVideo: i < options.video,
          packetsPerSecond: options.videoPacketsPerSecond,
          receiveSlots: options.receive,
          microphone: i < options.speakers ? toneMicrophone(300 + 40 * i, 4000) : silent,
          audioLevelExtensionId: 1,
          recordAudio: false,
          ignoreAudioMetadata: true,
          tls: options.target.tls,
        });
        joinMs.push(performance.now() - started);
        if ((i + 1) % 10 === 0) log(`${i + 1} of ${options.attendees} joining`);
        return { client, name, attendeeId: attendee.AttendeeId ?? '' };
      } catch (error) {
        failedJoins.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    }, options.concurrency ?? 4);
    live = joined.filter((j): j is Joined => j !== undefined);
    log(`${live.length} joined${failedJoins.length ? `, ${failedJoins.length} failed` : ''}; subscribing to the videos`);
    // Everyone has joined, so the latest INDEX lists every publisher: subscribe as the SDK would.
    let expectedVideo = 0;
    await Promise.all(live.map(async ({ client, attendeeId }) => {
      const sources = client.latestSources(attendeeId).slice(0, options.receive);
      expectedVideo += sources.length * options.videoPacketsPerSecond;
      await client.subscribe('', sources);
    }));
    // Settle (keyframes, DTLS on new m-sections), then measure.
    await new Promise((r) => setTimeout(r, 1000));
    const before = live.map(({ client }) => ({ video: totalVideo(client), audio: client.audioPackets, latencies: client.latenciesMs.length }));
    const sum = (pick: (j: Joined, i: number) => number): number => live.reduce((n, j, i) => n + pick(j, i), 0);
    for (let s = 1; s <= options.seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      const video = sum(({ client }, i) => totalVideo(client) - before[i]!.video);
      const audio = sum(({ client }, i) => client.audioPackets - before[i]!.audio);
      log(`${s} s: ${Math.round(video / s)} video and ${Math.round(audio / s)} audio packets/s received`);
    }
    const latencies = live.flatMap(({ client }, i) => client.latenciesMs.slice(before[i]!.latencies));
    return {
      joined: live.length,
      failedJoins,
      joinMs: { p50: percentile(joinMs, 0.5), p95: percentile(joinMs, 0.95) },
      closed: live.flatMap(({ client, name }) => (client.closeCode === undefined ? [] : [{ name, code: client.closeCode }])),
      videoPacketsPerSecond: sum(({ client }, i) => totalVideo(client) - before[i]!.video) / options.seconds,
      audioPacketsPerSecond: sum(({ client }, i) => client.audioPackets - before[i]!.audio) / options.seconds,
      expectedVideoPacketsPerSecond: expectedVideo,
      videoLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
      hearingAudio: live.filter(({ client }, i) => client.audioPackets > before[i]!.audio).length,
      seeingVideo: live.filter(({ client }, i) => totalVideo(client) > before[i]!.video).length,
    };
  } finally {
    await Promise.all(live.map(({ client }) => client.close()));
  }
}
