import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
const clients: HeadlessClient[] = [];

beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
});

async function meetingWith(count: number) {
  return createMeetingWithAttendees(t.client, `headless-${Date.now()}`, userIds('bot', count));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the SFU with headless node-datachannel clients', () => {
  it('forwards a publisher to a subscriber, starting on a keyframe requested with PLI', async () => {
    const { meeting, attendees } = await meetingWith(2);
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50 });
    clients.push(publisher);
    // The viewer arrives mid-stream, so it can only start once PLI has made the publisher send a keyframe.
    await publisher.connected();
    await sleep(1000);
    const pliBefore = publisher.pliReceived;
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 2 });
    clients.push(viewer);
    const sources = viewer.latestSources(attendees[1]!.AttendeeId);
    expect(sources).toHaveLength(1);
    const ack = await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, sources);
    expect(ack.suback!.tracks.map((tr) => [tr.streamId, tr.trackLabel])).toEqual([[sources[0], 'v_2']]);
    await viewer.connected();
    await sleep(1500);
    expect(viewer.received.get('2') ?? 0).toBeGreaterThan(20);
    expect(publisher.pliReceived).toBeGreaterThan(pliBefore);
    expect(viewer.latenciesMs.length).toBeGreaterThan(10);
  }, 30_000);

  it('allows 16 cameras; the 17th publisher is refused with at_capacity and status 206', async () => {
    const { meeting, attendees } = await meetingWith(17);
    const publishers: HeadlessClient[] = [];
    for (const attendee of attendees.slice(0, 16)) {
      const client = await HeadlessClient.join(meeting, attendee, { publishVideo: true, packetsPerSecond: 5 });
      clients.push(client);
      publishers.push(client);
    }
    const last = await HeadlessClient.join(meeting, attendees[16]!, { publishVideo: true, packetsPerSecond: 5 });
    clients.push(last);
    const index = last.latestIndex();
    expect(index?.atCapacity).toBe(true);
    expect(index?.sources).toHaveLength(16);
    const ack = [...last.frames].reverse().find((f) => f.suback);
    expect(ack?.suback?.allocations).toEqual([]);
    expect(ack?.error?.status).toBe(206);
    expect(ack?.suback?.sdpAnswer).toMatch(/a=mid:1\r\na=inactive/);

    // One camera leaving frees a slot.
    await publishers[0]!.close();
    await sleep(500);
    expect(last.latestIndex()?.atCapacity).toBe(false);
  }, 60_000);

  it('garbage datagrams on the media port are dropped without disturbing a running stream', async () => {
    const { meeting, attendees } = await meetingWith(2);
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50 });
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1 });
    clients.push(publisher, viewer);
    await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendees[1]!.AttendeeId));
    await viewer.connected();
    await sleep(500);

    const socket = createSocket('udp4');
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
      // Some look like RTP/RTCP (version 2) or STUN (leading zero bits and the magic cookie).
      if (i % 3 === 0) bytes[0] = 0x80 | (bytes[0]! & 0x3f);
      if (i % 5 === 0 && bytes.length >= 8) bytes.writeUInt32BE(0x2112a442, 4);
      socket.send(bytes, t.server.port, '127.0.0.1');
      if (i % 500 === 0) await sleep(10);
    }
    const before = viewer.received.get('2') ?? 0;
    await sleep(1500);
    socket.close();
    expect((viewer.received.get('2') ?? 0) - before).toBeGreaterThan(30);
    const health = await fetch(`${t.server.url}/health`);
    expect(health.status).toBe(200);
  }, 30_000);

  it('switches the meeting to H.264 when a participant cannot receive VP8, and forwards it', async () => {
    const { meeting, attendees } = await meetingWith(2);
    const viewer = await HeadlessClient.join(meeting, attendees[0]!, { receiveSlots: 1, codecs: ['H264'] });
    clients.push(viewer);
    const publisher = await HeadlessClient.join(meeting, attendees[1]!, { publishVideo: true, codecs: ['VP8', 'H264'], packetsPerSecond: 50 });
    clients.push(publisher);
    expect(publisher.sendCodec?.codec).toBe('H264');
    // INDEX advertises the meeting's codec: H.264 constrained baseline (3) only.
    expect(publisher.latestIndex()?.supportedReceiveCodecIntersection).toEqual([3]);
    // The INDEX announcing the publisher reaches the viewer just after the publisher's SUBSCRIBE_ACK.
    for (let i = 0; i < 50 && viewer.latestSources(attendees[0]!.AttendeeId).length === 0; i++) await sleep(20);
    const ack = await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendees[0]!.AttendeeId));
    expect(ack.suback!.tracks).toHaveLength(1);
    expect(ack.suback!.sdpAnswer).toMatch(/a=rtpmap:102 H264\/90000/);
    await viewer.connected();
    await sleep(1500);
    expect(viewer.received.get('2') ?? 0).toBeGreaterThan(20);
  }, 30_000);

  it('a publisher that reconnects keeps its stream ids, and its subscribers keep receiving without re-subscribing', async () => {
    const { meeting, attendees } = await meetingWith(2);
    const audioSessionId = 424242n;
    const first = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50, audioSessionId });
    clients.push(first);
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1 });
    clients.push(viewer);
    const [streamId] = viewer.latestSources(attendees[1]!.AttendeeId);
    await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, [streamId!]);
    await viewer.connected();
    await sleep(800);
    const audioStreamIds = () => viewer.frames.flatMap((f) => f.audioStreamIdInfo?.streams ?? []).filter((e) => e.attendeeId === attendees[0]!.AttendeeId).map((e) => e.audioStreamId);
    const audioBefore = audioStreamIds();
    const indexFramesBefore = viewer.frames.filter((f) => f.index).length;

    // The same client comes back on a new connection, as the SDK does after a network drop.
    const second = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50, audioSessionId });
    clients.push(second);
    await second.connected();
    expect(second.latestIndex()?.sources.map((src) => src.streamId)).toEqual([streamId]);
    const ownAllocation = [...second.frames].reverse().find((f) => f.suback)?.suback?.allocations[0];
    expect(ownAllocation?.streamId).toBe(streamId);
    await sleep(300);
    const receivedAfterReconnect = viewer.received.get('2') ?? 0;
    await sleep(1000);
    expect((viewer.received.get('2') ?? 0) - receivedAfterReconnect).toBeGreaterThan(20);
    // Nothing the viewer sees changed: no new INDEX dropping the stream, and the same audio stream id.
    expect(viewer.frames.filter((f) => f.index).slice(indexFramesBefore).every((f) => f.index!.sources.some((src) => src.streamId === streamId))).toBe(true);
    expect(new Set(audioStreamIds())).toEqual(new Set(audioBefore));
    expect(first.closeCode).toBe(4301);
  }, 30_000);

  it('forwards the video-orientation header extension renumbered to each subscriber\'s id, and drops the rest', async () => {
    const { meeting, attendees } = await meetingWith(2);
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50, videoOrientationId: 7 });
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1, videoOrientationId: 3 });
    clients.push(publisher, viewer);
    const ack = await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendees[1]!.AttendeeId));
    expect(ack.suback!.sdpAnswer).toMatch(/a=extmap:3 urn:3gpp:video-orientation/);
    await Promise.all([viewer.connected(), publisher.connected()]);
    // Measure once media flows: the first room of a process also compiles the Opus wasm.
    for (let i = 0; i < 150 && !viewer.received.get('2'); i++) await sleep(20);
    await sleep(1000);
    expect(viewer.received.get('2') ?? 0).toBeGreaterThan(10);
    expect([...viewer.lastExtensions]).toEqual([[3, [0x01]]]);
  }, 30_000);

  it('stamps abs-send-time on what it sends a subscriber that offered it, and sends everyone BITRATES and INDEX with measured rates and its downlink figure', async () => {
    const { meeting, attendees } = await meetingWith(3);
    // 200 packets a second of 1000 bytes: about 1.3 Mbps as paced here (INDEX said 750 kbps, half the cap, before measuring).
    const publisher = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 200, packetBytes: 1000 });
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1, absSendTimeId: 5, videoOrientationId: 3 });
    clients.push(publisher, viewer);
    const sources = viewer.latestSources(attendees[1]!.AttendeeId);
    const ack = await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, sources);
    expect(ack.suback!.sdpAnswer).toMatch(/a=extmap:5 http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/abs-send-time/);
    await Promise.all([viewer.connected(), publisher.connected()]);
    for (let i = 0; i < 150 && !viewer.received.get('2'); i++) await sleep(20);
    const stamp = () => {
      const b = viewer.lastExtensions.get(5);
      return b ? (b[0]! << 16) | (b[1]! << 8) | b[2]! : undefined;
    };
    const first = stamp();
    const firstAt = performance.now();
    expect(first).toBeDefined();
    await sleep(1000);
    const elapsedMs = ((((stamp()! - first!) & 0xffffff) * 1000) / 262144);
    // Stamped as each packet leaves: the stamps advance as real time does.
    expect(Math.abs(elapsedMs - (performance.now() - firstAt))).toBeLessThan(150);
    const bitrates = (await viewer.next(SdkSignalFrame_Type.BITRATES, 5000)).bitrates!;
    const streamId = sources[0]!;
    expect(bitrates.bitrates.map((b) => b.sourceStreamId)).toEqual([streamId]);
    expect(bitrates.bitrates[0]!.avgBitrateBps).toBeGreaterThan(1_000_000);
    expect(bitrates.bitrates[0]!.avgBitrateBps).toBeLessThan(1_900_000);
    // No REMB from a headless viewer and no loss: the figure starts at 2.8 Mbps and grows.
    expect(bitrates.serverAvailableOutgoingBitrate).toBeGreaterThanOrEqual(2800);
    // A publisher's own stream is left out of its BITRATES.
    const own = (await publisher.next(SdkSignalFrame_Type.BITRATES, 5000)).bitrates!;
    expect(own.bitrates).toEqual([]);
    // Someone joining now gets an INDEX with the measured rate, not a guess.
    const late = await HeadlessClient.join(meeting, attendees[2]!, { receiveSlots: 1 });
    clients.push(late);
    const source = late.latestIndex()!.sources.find((x) => x.streamId === streamId)!;
    expect(source.avgBitrateBps).toBeGreaterThan(1_000_000);
    expect(source.avgBitrateBps).toBeLessThan(1_900_000);
  }, 30_000);

  it('pauses the lowest-priority video for a subscriber that reports loss, with PAUSE by group id, and resumes it with RESUME once the loss stops', async () => {
    // Holds and delays shortened so the recovery fits in a test; the logic is the default one.
    const own = await startTestServer({ iceHost: '127.0.0.1', media: { video: { downlink: { holdMs: 2000, increasePerSecond: 1 }, allocator: { resumeAfterMs: 1000 } } } });
    try {
    const { meeting, attendees } = await createMeetingWithAttendees(own.client, `lossy-${Date.now()}`, userIds('lossy', 4));
    const publishers = [];
    for (const a of attendees.slice(0, 2)) publishers.push(await HeadlessClient.join(meeting, a, { publishVideo: true, packetsPerSecond: 100, packetBytes: 1000 }));
    const lossy = await HeadlessClient.join(meeting, attendees[2]!, { receiveSlots: 2, receiverReports: { lossRate: 0.3 } });
    const clean = await HeadlessClient.join(meeting, attendees[3]!, { receiveSlots: 2, receiverReports: { lossRate: 0 } });
    clients.push(...publishers, lossy, clean);
    const index = lossy.latestIndex()!.sources;
    const groupOf = (i: number) => index.find((x) => x.attendeeId === attendees[i]!.AttendeeId)!.groupId;
    for (const viewer of [lossy, clean]) await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources());
    await Promise.all([...publishers, lossy, clean].map((c) => c.connected()));
    // 30% loss reported: the figure falls under what both videos cost; the later publisher's goes first.
    const framesOf = (type: SdkSignalFrame_Type) => lossy.frames.filter((f) => f.type === type).map((f) => f.pause!.groupIds);
    for (let i = 0; i < 100 && framesOf(SdkSignalFrame_Type.PAUSE).length === 0; i++) await sleep(100);
    expect(framesOf(SdkSignalFrame_Type.PAUSE)[0]).toEqual([groupOf(1)]);
    const slotOf = (i: number) => (lossy.latestSources().indexOf(index.find((x) => x.attendeeId === attendees[i]!.AttendeeId)!.streamId) === 0 ? '2' : '3');
    const frozen = lossy.received.get(slotOf(1)) ?? 0;
    await sleep(1000);
    expect(lossy.received.get(slotOf(1)) ?? 0).toBeLessThan(frozen + 5);
    expect(clean.frames.some((f) => f.type === SdkSignalFrame_Type.PAUSE)).toBe(false);
    // The link recovers: after the hold and the resume delay (shortened for this server), RESUME.
    lossy.setReceiveLoss(0);
    for (let i = 0; i < 200 && !framesOf(SdkSignalFrame_Type.RESUME).flat().includes(groupOf(1)); i++) await sleep(100);
    expect(framesOf(SdkSignalFrame_Type.RESUME).flat()).toContain(groupOf(1));
    const restarted = lossy.received.get(slotOf(1)) ?? 0;
    await sleep(1500);
    expect(lossy.received.get(slotOf(1)) ?? 0).toBeGreaterThan(restarted + 20);
    } finally {
      await Promise.all([...clients.splice(-4)].map((c) => c.close()));
      await own.close();
    }
  }, 40_000);
});
