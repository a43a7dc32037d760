import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { createMeetingWithAttendees } from '../helpers/meetings.js';
import { harness, waitForSnapshot } from './harness/browser.js';
import { useServerAndHarness } from './harness/suite.js';

const suite = useServerAndHarness();

const TONES = [440, 660, 880] as const;

/** The tone powers (dB) a page plays out, over 1.5 s. */
const heard = (page: Page) => harness(page, 'measureAudio', [...TONES], 1500);

describe('amazon-chime-sdk-js hears the server-side mix', () => {
  it('three browsers with oscillator microphones hear the other two and not themselves; volume indicators follow speaking and mute', async () => {
    const { meeting: Meeting, attendees: Attendees } = await createMeetingWithAttendees(suite.server.client, `e2e-audio-${Date.now()}`, TONES.map((hz) => `osc-${hz}`));
    const pages = await Promise.all(TONES.map(() => suite.browser.newPage()));
    await Promise.all(pages.map((page, i) => harness(page, 'join', Meeting, Attendees![i], { video: false, toneHz: TONES[i] })));
    await Promise.all(pages.map((page) => waitForSnapshot(page, (s) => s.started, 30_000)));

    for (const [i, page] of pages.entries()) {
      await eventually(async () => {
        const power = await heard(page);
        const own = power[String(TONES[i])]!;
        for (const hz of TONES) {
          if (hz === TONES[i]) continue;
          expect(power[String(hz)]! - own, `page ${TONES[i]} hears ${hz} over itself: ${JSON.stringify(power)}`).toBeGreaterThan(20);
        }
      }, 30_000);
    }

    // Page 660 sees the 440 speaker's volume indicator up, and not muted.
    const speaker = Attendees![0]!.AttendeeId!;
    const listener = pages[1]!;
    await eventually(async () => {
      const samples = (await harness(listener, 'volumeSamples', 0)).filter((v) => v.attendeeId === speaker);
      expect(Math.max(0, ...samples.map((v) => v.volume ?? 0))).toBeGreaterThan(0.5);
    }, 15_000);

    // The 440 speaker mutes: the others' indicators say muted and silent, and 440 leaves their mix.
    const mutedAt = await harness(listener, 'now');
    await harness(pages[0]!, 'setMuted', true);
    await eventually(async () => {
      const after = (await harness(listener, 'volumeSamples', mutedAt)).filter((v) => v.attendeeId === speaker);
      expect(after.some((v) => v.muted === true)).toBe(true);
      const lastVolume = after.filter((v) => v.volume !== null).at(-1)?.volume;
      expect(lastVolume ?? 0).toBeLessThan(0.05);
    }, 15_000);
    // The server's answer asks for DTX (usedtx=1): muted, Chrome sends a packet every 400 ms, not 50 a second.
    const audioPacketsSent = async (page: Page) => {
      const stats = (await page.evaluate(() => (window as unknown as { harness: { rtcStats(): Promise<{ type?: string; kind?: string; packetsSent?: number }[]> } }).harness.rtcStats()));
      return stats.find((x) => x.type === 'outbound-rtp' && x.kind === 'audio')?.packetsSent ?? 0;
    };
    await eventually(async () => {
      const before = await audioPacketsSent(pages[0]!);
      await new Promise((r) => setTimeout(r, 2000));
      const sent = (await audioPacketsSent(pages[0]!)) - before;
      expect(sent, 'audio packets a muted browser sent in 2 s').toBeLessThan(30);
    }, 20_000);
    for (const page of [pages[1]!, pages[2]!]) {
      await eventually(async () => {
        const power = await heard(page);
        const other = page === pages[1] ? 880 : 660;
        expect(power[String(other)]! - power['440']!, `after mute: ${JSON.stringify(power)}`).toBeGreaterThan(20);
      }, 20_000);
    }
    await Promise.all(pages.map((page) => harness(page, 'leave')));
    // The server answers audio/red first (as the SDK prefers it), so Chrome sent every voice with RFC 2198
    // redundancy, and the mix heard above was decoded from it. (Chrome's stats name the inner codec, opus.)
    await eventually(() => {
      const redundancy = suite.server.logs.filter((line) => line.includes('"audio_redundancy"')).map((line) => JSON.parse(line) as { redPackets: number });
      expect(redundancy).toHaveLength(3);
      for (const r of redundancy) expect(r.redPackets).toBeGreaterThan(100);
    }, 10_000);
  }, 150_000);
});
