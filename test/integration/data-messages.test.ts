import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_SIGNAL_FRAME_BYTES,
  SdkNotificationFrame_NotificationLevel,
  SdkSignalFrame_Type as T,
  type SdkDataMessagePayload,
} from '../../src-main/shared/signaling/frames.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { randomAudioSessionId, signalingUrl, SignalClient } from '../helpers/signaling-client.js';

/**
 * DATA_MESSAGE through the real server, with raw protobuf clients that can
 * forge what the SDK would never send: relay, validation, throttling and the
 * lifetime buffer.
 */

let t: TestServer;
const clients: SignalClient[] = [];

beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1', udpPort: 0 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await t.close();
});

interface TestAttendee {
  AttendeeId: string;
  ExternalUserId: string;
  JoinToken: string;
}

async function meetingWith(count: number, label: string) {
  const { meeting, attendees } = await createMeetingWithAttendees(t.client, `data-${label}`, userIds(`${label}-user`, count));
  return {
    url: signalingUrl(meeting),
    attendees: attendees.map((a): TestAttendee => ({ AttendeeId: a.AttendeeId!, ExternalUserId: a.ExternalUserId!, JoinToken: a.JoinToken! })),
    meetingId: meeting.MeetingId!,
  };
}

async function joined(url: string, attendee: TestAttendee, opts: { content?: boolean; audioSessionId?: bigint } = {}): Promise<SignalClient> {
  const client = await SignalClient.connect(url, { token: attendee.JoinToken + (opts.content ? '#content' : '') });
  clients.push(client);
  await client.join(opts.audioSessionId);
  return client;
}

function sendData(client: SignalClient, messages: { topic: string; data: string | Uint8Array; lifetimeMs?: number }[]): void {
  client.send({
    type: T.DATA_MESSAGE,
    dataMessage: {
      messages: messages.map((m) => ({ topic: m.topic, data: typeof m.data === 'string' ? new TextEncoder().encode(m.data) : m.data, lifetimeMs: m.lifetimeMs ?? 0 })),
    },
  });
}

const received = (client: SignalClient): SdkDataMessagePayload[] => client.framesOf(T.DATA_MESSAGE).flatMap((f) => f.dataMessage?.messages ?? []);
const text = (m: SdkDataMessagePayload): string => new TextDecoder().decode(m.data);

/** A PING round trip: every frame the server sent before the PONG has arrived. */
async function settled(...cs: SignalClient[]): Promise<void> {
  await Promise.all(cs.map((c) => c.ping()));
}

describe('relay', () => {
  it('delivers to every other attendee, content shares included, with the sender ids and an ingest time, and never echoes', async () => {
    const { url, attendees: [a, b] } = await meetingWith(2, 'relay');
    const ca = await joined(url, a!);
    const cb = await joined(url, b!);
    const cbContent = await joined(url, b!, { content: true });
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    sendData(ca, [{ topic: 'chat', data: 'hello', lifetimeMs: 10_000 }]);
    sendData(cb, [{ topic: 'reactions', data: new Uint8Array([0, 255, 7]) }]);

    const atB = await cb.frame(T.DATA_MESSAGE);
    const m = atB.dataMessage!.messages[0]!;
    expect(m).toMatchObject({ topic: 'chat', lifetimeMs: 10_000, senderAttendeeId: a!.AttendeeId, senderExternalUserId: a!.ExternalUserId });
    expect(text(m)).toBe('hello');
    expect(m.ingestTimeNs > before).toBe(true);
    await eventually(() => expect(received(cbContent).map(text)).toContain('hello'));
    await eventually(() => expect(received(ca).map((x) => [...x.data])).toEqual([[0, 255, 7]]));
    expect(received(ca)[0]!.senderAttendeeId).toBe(b!.AttendeeId);
    await settled(ca, cb);
    // Nobody hears their own message back.
    expect(received(ca).map((x) => x.topic)).toEqual(['reactions']);
    expect(received(cb).map((x) => x.topic)).toEqual(['chat']);
    // B's content share is another session: it gets B's message too.
    await eventually(() => expect(received(cbContent).map((x) => x.topic).sort()).toEqual(['chat', 'reactions']));
  });

  it('stamps strictly increasing ingest times across senders', async () => {
    const { url, attendees: [a, b, c] } = await meetingWith(3, 'order');
    const ca = await joined(url, a!);
    const cb = await joined(url, b!);
    const cc = await joined(url, c!);
    for (let i = 0; i < 20; i++) sendData(i % 2 ? ca : cb, [{ topic: 'seq', data: String(i) }]);
    await eventually(() => expect(received(cc)).toHaveLength(20));
    const times = received(cc).map((m) => m.ingestTimeNs);
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
  });
});

describe('bad input', () => {
  it('answers an invalid message with a NOTIFICATION to its sender only; the session and the others carry on', async () => {
    const { url, attendees: [a, b] } = await meetingWith(2, 'invalid');
    const ca = await joined(url, a!);
    const cb = await joined(url, b!);
    sendData(ca, [{ topic: 'bad topic!', data: 'x' }]);
    const n1 = await ca.frame(T.NOTIFICATION);
    expect(n1.notification?.level).toBe(SdkNotificationFrame_NotificationLevel.ERROR);
    expect(n1.notification?.message).toContain('INVALID_TOPIC');
    // No error status on it: the SDK would end the session on a 4xx.
    expect(n1.error).toBeUndefined();

    sendData(ca, [{ topic: 'chat', data: new Uint8Array(2049) }, { topic: 'chat', data: 'fine' }]);
    await eventually(() => expect(ca.framesOf(T.NOTIFICATION).map((f) => f.notification?.message)).toContainEqual(expect.stringContaining('#0 PAYLOAD_TOO_LARGE: data of 2049 bytes exceeds 2048 bytes')));
    // A negative lifetime as the SDK's protobufjs would encode it (two's complement in a uint32).
    sendData(ca, [{ topic: 'chat', data: 'x', lifetimeMs: 0xffff_fff6 }]);
    await eventually(() => expect(ca.framesOf(T.NOTIFICATION).some((f) => f.notification?.message.includes('NEGATIVE_LIFETIME'))).toBe(true));

    await settled(ca, cb);
    expect(ca.isOpen).toBe(true);
    expect(received(cb).map(text)).toEqual(['fine']);
    expect(cb.framesOf(T.NOTIFICATION)).toEqual([]);
  });

  it('closes only the sender of a malformed or oversized frame', async () => {
    const { url, attendees: [a, b, c] } = await meetingWith(3, 'malformed');
    const ca = await joined(url, a!);
    const cb = await joined(url, b!);
    const cc = await joined(url, c!);
    // DATA_MESSAGE type with a truncated length-delimited field where data_message should be.
    ca.sendRaw(new Uint8Array([0x05, 0x08, 0x01, 0x10, 0x10, 0xba, 0x01, 0x40, 0x0a]));
    expect((await ca.closed()).code).toBe(4400);
    // A WebSocket message over the frame limit: the socket is closed by the transport.
    cc.sendRaw(new Uint8Array(MAX_SIGNAL_FRAME_BYTES + 10).fill(5));
    expect((await cc.closed()).code).toBe(1009);
    sendData(cb, [{ topic: 'chat', data: 'still here' }]);
    await settled(cb);
    expect(cb.isOpen).toBe(true);
  });

  it('refuses DATA_MESSAGE before JOIN', async () => {
    const { url, attendees: [a] } = await meetingWith(1, 'prejoin');
    const ca = await SignalClient.connect(url, { token: a!.JoinToken });
    clients.push(ca);
    sendData(ca, [{ topic: 'chat', data: 'early' }]);
    expect((await ca.closed()).code).toBe(4400);
  });
});

describe('throttling', () => {
  it('returns messages past the burst to the sender with ingest_time_ns 0 and delivers the rest in order', async () => {
    const { url, attendees: [a, b] } = await meetingWith(2, 'burst');
    const ca = await joined(url, a!);
    const cb = await joined(url, b!);
    for (let i = 0; i < 400; i++) sendData(ca, [{ topic: 'burst', data: String(i) }]);
    await eventually(() => expect(received(ca).length + received(cb).length).toBe(400));
    const delivered = received(cb).map((m) => Number(text(m)));
    const throttled = received(ca);
    expect(delivered.length).toBeGreaterThanOrEqual(200);
    expect(throttled.length).toBeGreaterThan(100);
    expect(delivered).toEqual([...delivered].sort((x, y) => x - y));
    expect(delivered.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(throttled.every((m) => m.ingestTimeNs === 0n && m.topic === 'burst')).toBe(true);
    expect(received(cb).every((m) => m.ingestTimeNs > 0n)).toBe(true);
    // Every message is accounted for exactly once.
    expect(new Set([...delivered, ...throttled.map((m) => Number(text(m)))]).size).toBe(400);
  });
});

describe('lifetime buffer', () => {
  it('replays live messages once, in order, to a late joiner, and only missed ones to a reconnecting client', async () => {
    const { url, attendees: [a, b, c], meetingId } = await meetingWith(3, 'buffer');
    const ca = await joined(url, a!);
    const sessionB = randomAudioSessionId();
    const cb = await joined(url, b!, { audioSessionId: sessionB });
    sendData(ca, [{ topic: 'chat', data: 'kept-1', lifetimeMs: 60_000 }]);
    sendData(ca, [{ topic: 'chat', data: 'ephemeral' }]);
    sendData(ca, [{ topic: 'chat', data: 'short', lifetimeMs: 1 }]);
    sendData(cb, [{ topic: 'chat', data: 'kept-2', lifetimeMs: 60_000 }]);
    await eventually(() => expect(received(cb).map(text)).toEqual(['kept-1', 'ephemeral', 'short']));
    await new Promise((r) => setTimeout(r, 20)); // let the 1 ms lifetime lapse

    const cc = await joined(url, c!);
    await settled(cc);
    const replay = received(cc);
    expect(replay.map(text)).toEqual(['kept-1', 'kept-2']);
    expect(replay.map((m) => m.senderAttendeeId)).toEqual([a!.AttendeeId, b!.AttendeeId]);
    expect(cc.framesOf(T.DATA_MESSAGE)).toHaveLength(1);

    // B drops and reconnects as the SDK does (same audio_session_id); meanwhile A sends another.
    cb.terminate();
    await eventually(() => expect(t.server.signaling.room(meetingId)?.participant(b!.AttendeeId)).toBeUndefined());
    sendData(ca, [{ topic: 'chat', data: 'kept-3', lifetimeMs: 60_000 }]);
    await eventually(() => expect(received(cc).map(text)).toContain('kept-3'));
    const again = await joined(url, b!, { audioSessionId: sessionB });
    await settled(again);
    expect(received(again).map(text)).toEqual(['kept-3']);

    // A new client for B (a reloaded page: new audio_session_id) has seen nothing: it gets A's live messages.
    const fresh = await joined(url, b!, { audioSessionId: randomAudioSessionId() });
    await settled(fresh);
    expect(received(fresh).map(text)).toEqual(['kept-1', 'kept-3']);
  });
});

