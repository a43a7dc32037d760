import type { LoadReport } from './load-run.js';

/**
 * `npm run load -- --url <invite or host link> [--attendees N] [--video N] [--speakers N]
 * [--receive N] [--seconds S] [--passcode P] [--video-pps N]`: headless attendees
 * join a running Chorus meeting and report what they receive.
 */
export const LOAD_USAGE = `Usage: npm run load -- --url LINK [options]

Joins headless attendees (real WebRTC and Opus, synthetic video) to a Chorus
meeting through its invite link, and reports what they receive.

  --url LINK        the meeting's invite link, or its host link (#host=... joins
                    without the passcode and is never throttled)
  --attendees N     how many attendees join (default 10)
  --video N         how many of them publish video (default 2)
  --speakers N      how many of them speak a tone; the rest send silence (default 1)
  --receive N       remote videos each attendee receives at most (default 16)
  --seconds S       how long to measure once everyone has joined (default 10)
  --passcode P      the meeting's passcode, if it has one and --url is not a host link
                    (an invite link gets 30 joins a minute per address from the server;
                    a host link is not limited)
  --video-pps N     video packets per second per publisher, 1000 bytes each (default 60)
  --help            this text`;

interface CliOptions {
  url: string;
  attendees: number;
  video: number;
  speakers: number;
  receive: number;
  seconds: number;
  passcode?: string;
  videoPps: number;
}

export function parseLoadArgs(argv: string[]): CliOptions | 'help' {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument '${arg}'`);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    values.set(arg.slice(2), value);
  }
  const known = new Set(['url', 'attendees', 'video', 'speakers', 'receive', 'seconds', 'passcode', 'video-pps']);
  for (const key of values.keys()) if (!known.has(key)) throw new Error(`Unknown option --${key}`);
  const count = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const url = values.get('url');
  if (!url) throw new Error('--url is required: the meeting\'s invite link or host link');
  const attendees = count('attendees', 10, 1, 250);
  return {
    url,
    attendees,
    video: Math.min(attendees, count('video', 2, 0, 16)),
    speakers: Math.min(attendees, count('speakers', 1, 0, 250)),
    receive: count('receive', 16, 0, 16),
    seconds: count('seconds', 10, 1, 3600),
    passcode: values.get('passcode'),
    videoPps: count('video-pps', 60, 1, 1000),
  };
}

export function formatLoadReport(report: LoadReport, seconds: number): string {
  const pct = report.expectedVideoPacketsPerSecond > 0 ? ` (${((100 * report.videoPacketsPerSecond) / report.expectedVideoPacketsPerSecond).toFixed(1)} % of what was sent to them)` : '';
  const lines = [
    `joined: ${report.joined}${report.failedJoins.length ? `, failed: ${report.failedJoins.length}` : ''}; join time p50 ${report.joinMs.p50.toFixed(0)} ms, p95 ${report.joinMs.p95.toFixed(0)} ms`,
    `over ${seconds} s: ${report.hearingAudio} of ${report.joined} received audio (${report.audioPacketsPerSecond.toFixed(0)} packets/s in all), ${report.seeingVideo} received video (${report.videoPacketsPerSecond.toFixed(0)} packets/s${pct})`,
    Number.isFinite(report.videoLatencyMs.p50) ? `video latency through the server: p50 ${report.videoLatencyMs.p50.toFixed(1)} ms, p99 ${report.videoLatencyMs.p99.toFixed(1)} ms` : 'video latency: no video received',
    ...report.closed.map((c) => `closed by the server: ${c.name} (${c.code})`),
    ...report.failedJoins.map((f) => `join failed: ${f}`),
  ];
  return lines.join('\n');
}
