import { afterEach, describe, expect, it } from 'vitest';
import type { ChorusServerConfig } from '../../src-main/server/chorus-server.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { SignalClient, signalingUrl } from '../helpers/signaling-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 14 item 2: one attendee sending 1,000 AUDIO_CONTROL toggles at once must
 * not freeze the meeting's audio. A crowd of signaling-only attendees (sockets
 * paused after JOIN, so the test process does no work for them) makes every
 * presence broadcast cost what it costs in a large meeting; one speaker sends a
 * tone and two listeners record when each mixed packet arrives.
 */

// CHORUS_FLOOD_CROWD=246 measures the issue's 250-attendee meeting (slower; the default keeps the test short).
const CROWD = Number(process.env['CHORUS_FLOOD_CROWD'] ?? 150);
const BURST = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers.length = 0;
});

/** Largest gap (ms) between consecutive mixed-audio packets that arrived in [from, to]. */
function maxGap(arrivals: number[], from: number, to: number): number {
  const inWindow = arrivals.filter((a) => a >= from && a <= to);
  let gap = 0;
  for (let i = 1; i < inWindow.length; i++) gap = Math.max(gap, inWindow[i]! - inWindow[i - 1]!);
  return gap;
}

/** Late mixer ticks the server logged (mixer_tick_late sums them over about a second each). */
function lateTicksLogged(logs: string[], fromLine: number): { lateTicks: number; maxLateMs: number } {
  let lateTicks = 0;
  let maxLateMs = 0;
  for (const line of logs.slice(fromLine)) {
    if (!line.includes('"mixer_tick_late"')) continue;
    const entry = JSON.parse(line) as { lateTicks: number; maxLateMs: number };
    lateTicks += entry.lateTicks;
    maxLateMs = Math.max(maxLateMs, entry.maxLateMs);
  }
  return { lateTicks, maxLateMs };
}

interface BurstOutcome {
  gaps: number[];
  packets: number[];
  late: { lateTicks: number; maxLateMs: number };
  /** AUDIO_STREAM_ID_INFO frames each attendee got during the burst. */
  presenceFrames: number;
  attacker: SignalClient;
  t: TestServer;
  listeners: HeadlessClient[];
  listenerId: string;
  meetingId: string;
}

/** A meeting of a speaker, two listeners, a paused crowd and an attacker; the attacker sends BURST toggles at once. */
async function burst(config: Partial<ChorusServerConfig>): Promise<BurstOutcome> {
  const t = await startTestServer({ iceHost: '127.0.0.1', ...config });
  closers.push(() => t.close());
  const { meeting, attendees } = await createMeetingWithAttendees(t.client, 'flood', userIds('a', CROWD + 4));
  const [speakerA, listenerA1, listenerA2, attackerA, ...crowdA] = attendees;
  const speaker = await HeadlessClient.join(meeting, speakerA!, { toneHz: 440 });
  closers.push(() => speaker.close());
  const listeners = [await HeadlessClient.join(meeting, listenerA1!), await HeadlessClient.join(meeting, listenerA2!)];
  for (const l of listeners) closers.push(() => l.close());

  for (const a of crowdA) {
    const c = await SignalClient.connect(signalingUrl(meeting), { token: a.JoinToken! });
    closers.push(() => c.terminate());
    await c.join();
    // A crowd member that reads nothing costs the test process nothing; the server still sends to it.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }
  const attacker = await SignalClient.connect(signalingUrl(meeting), { token: attackerA!.JoinToken! });
  closers.push(() => attacker.close());
  await attacker.join();

  // Audio flows to both listeners before the burst.
  await sleep(1500);
  for (const l of listeners) expect(l.audioPackets, 'the listener hears the speaker').toBeGreaterThan(20);

  const logsBefore = t.logs.length;
  const presenceBefore = attacker.framesOf(SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO).length;
  const from = performance.now();
  for (let i = 0; i < BURST; i++) attacker.send({ type: SdkSignalFrame_Type.AUDIO_CONTROL, audioControl: { muted: i % 2 === 0 } });
  await sleep(3000);
  const to = performance.now();

  const gaps = listeners.map((l) => Math.round(maxGap(l.audioArrivals, from, to)));
  const packets = listeners.map((l) => l.audioArrivals.filter((a) => a >= from && a <= to).length);
  const late = lateTicksLogged(t.logs, logsBefore);
  const presenceFrames = attacker.framesOf(SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO).length - presenceBefore;
  console.log(`[flood] listeners' largest audio gap ${gaps.join(', ')} ms; packets in ${Math.round(to - from)} ms: ${packets.join(', ')}; late mixer ticks ${late.lateTicks} (max ${late.maxLateMs} ms); presence frames to each attendee ${presenceFrames}; attacker ${attacker.closeInfo ? `closed ${attacker.closeInfo.code} "${attacker.closeInfo.reason}"` : 'open'}`);
  return { gaps, packets, late, presenceFrames, attacker, t, listeners, listenerId: listenerA1!.AttendeeId!, meetingId: meeting.MeetingId! };
}

function expectAudioIntact(outcome: BurstOutcome): void {
  // 50 packets a second: over 3 s a listener gets about 150 and never waits long for the next.
  for (const [i, gap] of outcome.gaps.entries()) {
    expect(gap, `listener ${i}'s longest silence during the burst`).toBeLessThan(250);
    expect(outcome.packets[i], `listener ${i}'s packets during the burst`).toBeGreaterThan(120);
  }
  // What listeners hear is measured above. The late-tick log spans more than the burst window and, on a
  // machine loaded by other suites, shows a few ticks hundreds of ms late with no gap for anyone (375 ms
  // once, gaps 28 ms); the stall this guards against was seconds (4.8-6.5 s before the frame caps).
  expect(outcome.late.maxLateMs, 'no mixer tick stalls for a second').toBeLessThan(1000);
  expect(outcome.t.server.signaling.room(outcome.meetingId)?.participant(outcome.listenerId)).toBeDefined();
  expect(outcome.listeners.every((l) => l.closeCode === undefined)).toBe(true);
}

describe('one attendee flooding AUDIO_CONTROL', () => {
  it(`${BURST} mute toggles in a ${CROWD + 4}-attendee meeting leave every listener's audio intact, and the flooder is closed with 4429`, async () => {
    const outcome = await burst({});
    expectAudioIntact(outcome);
    // Past the hard limit the flooder's session is closed with a clear code; the others stay.
    expect(outcome.attacker.closeInfo?.code).toBe(4429);
    expect(outcome.attacker.closeInfo?.reason).toMatch(/AUDIO_CONTROL/);
  }, 120_000);

  it('with no frame cap at all, coalesced presence and bounded work per turn alone keep the audio intact', async () => {
    const outcome = await burst({ signalingLimits: { framesPerSecond: { total: 100_000, audioControl: 100_000 } } } as Partial<ChorusServerConfig>);
    expectAudioIntact(outcome);
    expect(outcome.attacker.isOpen).toBe(true);
    // Every toggle was applied; the crowd got a few coalesced presence frames, not a thousand.
    expect(outcome.presenceFrames).toBeGreaterThan(0);
    expect(outcome.presenceFrames).toBeLessThan(30);
  }, 120_000);
});
