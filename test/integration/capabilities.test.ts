import { UpdateAttendeeCapabilitiesCommand } from '@aws-sdk/client-chime-sdk-meetings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { createOpusDecoder } from '../../src-main/server/media/audio/opus-codec.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { concatPcm, dB, tonePower } from '../helpers/audio-analysis.js';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees, userIds } from '../helpers/meetings.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** UpdateAttendeeCapabilities acts on live media, with real peers and real Opus. */

let t: TestServer;
const clients: HeadlessClient[] = [];
beforeAll(async () => {
  t = await startTestServer({ iceHost: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
});

/**
 * The level (dB over a floor) of a 440 Hz tone in what `client` received from packet
 * `from` on (default: the last second's worth). A silent mix goes out as DTX, a packet
 * every 400 ms, so "the last 50 packets" would reach back to before a change.
 */
async function hears440(client: HeadlessClient, from = client.audioReceived.length - 50): Promise<number> {
  const decoder = await createOpusDecoder();
  const pcm = concatPcm(client.audioReceived.slice(Math.max(0, from)).map((payload) => {
    const r = decoder.decode(payload);
    return r.ok ? r.pcm : new Int16Array(320);
  }));
  decoder.close();
  return dB(tonePower(pcm, 440) / 1e3);
}

describe('attendee capabilities on live media', () => {
  it('Audio, Video and Content set to Receive: within 2 s nobody gets that attendee\'s video or audio, and it shows muted', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(t.client, `caps-${Date.now()}`, userIds('caps', 2));
    const [speaker, listener] = attendees as [typeof attendees[0], typeof attendees[0]];
    const talker = await HeadlessClient.join(meeting, speaker, { publishVideo: true, packetsPerSecond: 50, toneHz: 440 });
    const viewer = await HeadlessClient.join(meeting, listener, { receiveSlots: 1 });
    clients.push(talker, viewer);
    await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(listener.AttendeeId));
    await eventually(async () => {
      expect(viewer.received.get('2') ?? 0).toBeGreaterThan(20);
      expect(await hears440(viewer)).toBeGreaterThan(30);
    }, 15_000);

    await t.client.send(new UpdateAttendeeCapabilitiesCommand({
      MeetingId: meeting.MeetingId, AttendeeId: speaker.AttendeeId, Capabilities: { Audio: 'Receive', Video: 'Receive', Content: 'Receive' },
    }));
    const changedAt = performance.now();
    // Its camera leaves the INDEX and stops reaching the viewer; its voice leaves the mix; it shows muted.
    await eventually(() => expect(viewer.latestSources(listener.AttendeeId)).toEqual([]), 2_000, 50);
    const videoAfter = viewer.received.get('2') ?? 0;
    // What the viewer gets from 300 ms after the change on (audio already in flight and in the jitter buffer aside) has no tone.
    await new Promise((resolve) => setTimeout(resolve, 300 - (performance.now() - changedAt)));
    const settled = viewer.audioReceived.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500 - (performance.now() - changedAt)));
    expect(await hears440(viewer, settled)).toBeLessThan(10);
    const muted = viewer.frames.flatMap((f) => (f.type === SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO ? f.audioStreamIdInfo!.streams : [])).at(-1);
    expect(muted).toMatchObject({ muted: true });
    expect(performance.now() - changedAt).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(viewer.received.get('2') ?? 0).toBeLessThanOrEqual(videoAfter + 2);

    // Its client unmuting (AUDIO_CONTROL) does not bring it back into the mix.
    talker.setMuted(false);
    const beforeUnmute = viewer.audioReceived.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await hears440(viewer, beforeUnmute)).toBeLessThan(10);

    // Its next SUBSCRIBE gets its camera refused with 206, view only; it still receives the meeting's audio.
    const ack = await talker.subscribe(meeting.MediaPlacement!.AudioHostUrl!);
    expect(ack.error?.status).toBe(206);
    expect(talker.audioPackets).toBeGreaterThan(0);
  }, 45_000);

  it('Audio and Video set to None: the attendee stops receiving the mix and video too', async () => {
    const { meeting, attendees } = await createMeetingWithAttendees(t.client, `caps-none-${Date.now()}`, userIds('caps', 2));
    const speaker = await HeadlessClient.join(meeting, attendees[0]!, { publishVideo: true, packetsPerSecond: 50, toneHz: 440 });
    const viewer = await HeadlessClient.join(meeting, attendees[1]!, { receiveSlots: 1 });
    clients.push(speaker, viewer);
    await viewer.subscribe(meeting.MediaPlacement!.AudioHostUrl!, viewer.latestSources(attendees[1]!.AttendeeId));
    await eventually(() => expect(viewer.received.get('2') ?? 0).toBeGreaterThan(20));
    await t.client.send(new UpdateAttendeeCapabilitiesCommand({
      MeetingId: meeting.MeetingId, AttendeeId: attendees[1]!.AttendeeId, Capabilities: { Audio: 'None', Video: 'None', Content: 'None' },
    }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [video, audio] = [viewer.received.get('2') ?? 0, viewer.audioPackets];
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(viewer.received.get('2') ?? 0).toBeLessThanOrEqual(video + 2);
    expect(viewer.audioPackets).toBeLessThanOrEqual(audio + 2);
  }, 30_000);
});
