import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpusDecoder } from '../../src-main/server/media/audio/opus-codec.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { concatPcm, dB, tonePower } from '../helpers/audio-analysis.js';
import { HeadlessClient } from '../../src-main/client/headless-client.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { eventually } from '../helpers/eventually.js';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TONES = [440, 660, 880] as const;

/** Decodes the last `frames` audio packets a client received. */
async function heard(client: HeadlessClient, frames: number): Promise<Int16Array> {
  const decoder = await createOpusDecoder();
  const pcm = client.audioReceived.map((payload) => {
    const r = decoder.decode(payload);
    return r.ok ? r.pcm : new Int16Array(320);
  });
  decoder.close();
  return concatPcm(pcm.slice(-frames));
}

describe('server-side mix-minus over real connections', () => {
  it('three clients speaking tones each hear the other two and not themselves; a muted one drops out; content-share audio is mixed too', async () => {
    const { meeting: Meeting, attendees: Attendees } = await createMeetingWithAttendees(t.client, 'mix-minus', TONES.map((hz) => `tone-${hz}`));
    const speakers: HeadlessClient[] = [];
    for (const [i, hz] of TONES.entries()) {
      const client = await HeadlessClient.join(Meeting!, Attendees![i]!, { toneHz: hz });
      clients.push(client);
      speakers.push(client);
    }
    await sleep(1000);
    await eventually(async () => {
      for (const [i, client] of speakers.entries()) {
        const pcm = await heard(client, 50);
        const own = tonePower(pcm, TONES[i]!);
        for (const [j, hz] of TONES.entries()) {
          if (j === i) continue;
          expect(dB(tonePower(pcm, hz) / Math.max(own, 1)), `client ${TONES[i]} hears ${hz} over itself`).toBeGreaterThan(20);
        }
        // 50 packets a second keep flowing.
        expect(client.audioReceived.length).toBeGreaterThan(80);
      }
    }, 15_000);
    // The SDK's volume indicators get AUDIO_METADATA: the speakers are loud.
    const metadata = [...speakers[0]!.frames].reverse().find((f) => f.type === SdkSignalFrame_Type.AUDIO_METADATA)?.audioMetadata;
    expect(metadata?.attendeeStates.length).toBe(3);
    expect(Math.max(...metadata!.attendeeStates.map((s) => s.volume))).toBeLessThan(40);

    speakers[0]!.setMuted(true);
    await sleep(1000);
    await eventually(async () => {
      for (const [i, client] of speakers.entries()) {
        if (i === 0) continue;
        const pcm = await heard(client, 40);
        const other = TONES[i === 1 ? 2 : 1];
        expect(dB(tonePower(pcm, other) / Math.max(tonePower(pcm, TONES[0]), 1)), `after mute, client ${TONES[i]} no longer hears 440`).toBeGreaterThan(20);
      }
      const afterMute = [...speakers[1]!.frames].reverse().find((f) => f.type === SdkSignalFrame_Type.AUDIO_METADATA)?.audioMetadata;
      expect(afterMute?.attendeeStates.some((s) => s.muted)).toBe(true);
    }, 15_000);

    // 660 shares a tab with sound: its content session (<id>#content) is mixed like any attendee.
    const content = await HeadlessClient.join(Meeting!, { AttendeeId: `${Attendees![1]!.AttendeeId}#content`, JoinToken: `${Attendees![1]!.JoinToken}#content` }, { toneHz: 550 });
    clients.push(content);
    await sleep(1000);
    await eventually(async () => {
      const pcm = await heard(speakers[2]!, 40);
      expect(dB(tonePower(pcm, 550) / Math.max(tonePower(pcm, 880), 1)), 'client 880 hears the shared tab').toBeGreaterThan(20);
      // The content session itself gets the meeting without its own sound.
      const own = await heard(content, 40);
      expect(dB(tonePower(own, 660) / Math.max(tonePower(own, 550), 1)), 'the content session does not hear itself').toBeGreaterThan(20);
    }, 15_000);
  }, 60_000);
});
