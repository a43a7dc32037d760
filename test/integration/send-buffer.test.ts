import { afterEach, describe, expect, it } from 'vitest';
import { SdkSignalFrame_Type as T } from '../../src-main/shared/signaling/frames.js';
import type { ChorusServerConfig } from '../../src-main/server/chorus-server.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { randomAudioSessionId, signalingUrl, SignalClient } from '../helpers/signaling-client.js';

/**
 * Issue 14 item 5: clients that never read their signaling socket must not make
 * the server's memory grow. A sender sends 2 KB data messages at the rate the
 * meeting allows (100 a second); ten stallers joined and then stopped reading.
 */

const STALLERS = 10;
const PAYLOAD = new Uint8Array(2000).fill(0x61);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers.length = 0;
});

type Socket = { pause(): void; resume(): void };
const socketOf = (c: SignalClient): Socket => (c.ws as unknown as { _socket: Socket })._socket;

async function setUp(config: Partial<ChorusServerConfig>) {
  const t = await startTestServer({ iceHost: '127.0.0.1', udpPort: 0, ...config });
  closers.push(() => t.close());
  const { meeting, attendees } = await createMeetingWithAttendees(t.client, 'stall', userIds('s', STALLERS + 2));
  const [senderA, readerA, ...stallerAs] = attendees;
  const connect = async (token: string, audioSessionId?: bigint) => {
    const c = await SignalClient.connect(signalingUrl(meeting), { token });
    closers.push(() => c.terminate());
    await c.join(audioSessionId);
    return c;
  };
  const sender = await connect(senderA!.JoinToken!);
  const reader = await connect(readerA!.JoinToken!);
  const sessions = stallerAs.map(() => randomAudioSessionId());
  const stallers: SignalClient[] = [];
  for (const [i, a] of stallerAs.entries()) {
    const c = await connect(a.JoinToken!, sessions[i]);
    socketOf(c).pause();
    stallers.push(c);
  }
  const room = () => t.server.signaling.room(meeting.MeetingId!);
  return { t, meeting, sender, reader, stallers, stallerAs, sessions, room, connect };
}

/** Sends 2 KB messages at `perSecond` until `done` or `maxMs`; returns how many went out and the largest server backlog seen. */
async function pump(t: TestServer, sender: SignalClient, lifetimeMs: number, done: () => boolean, maxMs: number, perSecond = 100) {
  const started = Date.now();
  let sent = 0;
  let peakBuffered = 0;
  while (!done() && Date.now() - started < maxMs) {
    for (let i = 0; i < perSecond / 10; i++) {
      sender.send({ type: T.DATA_MESSAGE, dataMessage: { messages: [{ topic: 'flood', data: PAYLOAD, lifetimeMs }] } });
      sent++;
    }
    await sleep(100);
    peakBuffered = Math.max(peakBuffered, unsentBytes(t));
  }
  return { sent, peakBuffered, elapsedMs: Date.now() - started };
}

const MiB = 1024 * 1024;
/** Bytes the server holds unsent on its signaling sockets (read from the sockets themselves, as a before/after measure). */
const unsentBytes = (t: TestServer): number =>
  [...(t.server.signaling as unknown as { sockets: Set<{ bufferedAmount: number }> }).sockets].reduce((sum, ws) => sum + ws.bufferedAmount, 0);
const received = (c: SignalClient) => c.framesOf(T.DATA_MESSAGE).flatMap((f) => f.dataMessage?.messages ?? []);

describe('signaling send-buffer cap', () => {
  it(`closes ${STALLERS} sessions that never read with 4509 before their backlog passes the cap; a reading client gets every message`, async () => {
    const { t, sender, reader, stallers, stallerAs, room } = await setUp({});
    const stallersGone = () => stallerAs.every((a) => room()?.participant(a.AttendeeId!) === undefined);
    const run = await pump(t, sender, 0, stallersGone, 30_000);
    console.log(`[send-buffer] ephemeral messages: ${run.sent} sent in ${run.elapsedMs} ms; stallers still joined ${stallerAs.filter((a) => room()?.participant(a.AttendeeId!)).length}; peak unsent bytes on the server ${(run.peakBuffered / MiB).toFixed(1)} MiB`);

    expect(stallersGone(), 'every staller was dropped').toBe(true);
    // The cap is 1 MiB a session: ten of them never held much more than 10 MiB between them.
    expect(run.peakBuffered).toBeLessThan(STALLERS * 1.2 * MiB);
    expect(t.logs.filter((l) => l.includes('"signaling_send_buffer_full"'))).toHaveLength(STALLERS);
    // The sender and the reader are untouched, and the reader got every message that was not throttled.
    await eventually(() => {
      const throttled = received(sender).filter((m) => m.ingestTimeNs === 0n).length;
      expect(received(reader).length).toBe(run.sent - throttled);
    }, 10_000);
    expect(sender.isOpen && reader.isOpen).toBe(true);
    // Read at last (two of them: each has megabytes of backlog to get through), a staller finds its session
    // closed: 4509, or cut once the grace after the close frame ran out.
    const readers = stallers.slice(0, 2);
    for (const c of readers) socketOf(c).resume();
    const codes = await Promise.all(readers.map(async (c) => (await c.closed(30_000)).code));
    console.log(`[send-buffer] stallers reading at last were closed with ${codes.join(', ')}`);
    for (const code of codes) expect([4509, 1006]).toContain(code);
  }, 60_000);

  it('drops replayable messages for a backed-up session, closes it when it stays backed up, and its reconnect replays what it missed', async () => {
    const { t, sender, stallerAs, sessions, room, connect } = await setUp({ signalingLimits: { maxBackedUpMs: 2_000 }, dataMessageLimits: { meetingRatePerSec: 1000, meetingBurst: 1000 } });
    const stallersGone = () => stallerAs.every((a) => room()?.participant(a.AttendeeId!) === undefined);
    const run = await pump(t, sender, 60_000, stallersGone, 30_000, 190);
    console.log(`[send-buffer] replayable messages: ${run.sent} sent in ${run.elapsedMs} ms; peak unsent bytes on the server ${(run.peakBuffered / MiB).toFixed(1)} MiB`);
    expect(stallersGone()).toBe(true);
    // Past the soft cap only droppable frames came, so nobody's backlog reached the hard cap.
    expect(run.peakBuffered).toBeLessThan(STALLERS * 1.2 * MiB);
    expect(t.logs.some((l) => l.includes('"signaling_send_buffer_full"') && l.includes('for 2000 ms'))).toBe(true);
    // The SDK reconnects with the same audio_session_id: it is replayed what it never got (the buffer keeps the newest 1024).
    const again = await connect(stallerAs[0]!.JoinToken!, sessions[0]);
    await new Promise((r) => setTimeout(r, 500));
    const replayed = received(again).length;
    console.log(`[send-buffer] the reconnect was replayed ${replayed} messages`);
    expect(replayed).toBeGreaterThan(0);
    expect(replayed).toBeLessThanOrEqual(1024);
  }, 60_000);
});
