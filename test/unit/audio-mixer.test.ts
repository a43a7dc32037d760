import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src-main/server/logger.js';
import { AudioMixer } from '../../src-main/server/media/audio/audio-mixer.js';
import { createOpusDecoder, createOpusEncoder, type OpusFrameEncoder } from '../../src-main/server/media/audio/opus-codec.js';
import { buildRtp, parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { concatPcm, dB, tonePower, toneFrames } from '../helpers/audio-analysis.js';

const TONES = { a: 440, b: 660, c: 880 } as const;
type Name = keyof typeof TONES;
const NAMES = Object.keys(TONES) as Name[];

/** A mixer with three attendees speaking tones A, B, C as real Opus RTP; returns what each one receives. */
async function meeting() {
  let clock = 0;
  const mixer = new AudioMixer({ codecs: { createEncoder: () => createOpusEncoder(), createDecoder: createOpusDecoder }, logger: silentLogger, now: () => clock });
  await mixer.whenReady();
  const received: Record<Name, Buffer[]> = { a: [], b: [], c: [] };
  const encoders = {} as Record<Name, OpusFrameEncoder>;
  for (const [i, name] of NAMES.entries()) {
    encoders[name] = await createOpusEncoder();
    // The packet is the mixer's reused buffer, valid during the call (as node-datachannel copies it): keep a copy.
    await mixer.addMember(name, { payloadType: 111, ssrc: 1000 + i }, (packet) => received[name].push(Buffer.from(packet)));
  }
  let frame = 0;
  const speaking = new Set<Name>(NAMES);
  const run = (ticks: number) => {
    for (let t = 0; t < ticks; t++, frame++) {
      for (const name of speaking) {
        const pcm = toneFrames(TONES[name], 1, 8000, frame)[0]!;
        mixer.onRtp(name, buildRtp({ payloadType: 111, sequenceNumber: frame, timestamp: frame * 960, ssrc: 50 + NAMES.indexOf(name), payload: encoders[name].encode(pcm) }));
      }
      mixer.tick();
      clock += 20;
    }
  };
  /** Decodes the last `ticks` packets `name` received. */
  const heard = async (name: Name, ticks: number) => {
    const decoder = await createOpusDecoder();
    const frames = received[name].map((packet) => {
      const info = parseRtp(packet)!;
      const result = decoder.decode(new Uint8Array(packet.subarray(info.payloadOffset)));
      return result.ok ? result.pcm : new Int16Array(320);
    });
    return concatPcm(frames.slice(-ticks));
  };
  return { mixer, received, run, heard, speaking };
}

describe('AudioMixer with real Opus', () => {
  it('each attendee hears the other two and not itself (at least 20 dB below)', async () => {
    const m = await meeting();
    m.run(60);
    for (const name of NAMES) {
      const pcm = await m.heard(name, 40);
      const own = tonePower(pcm, TONES[name]);
      for (const other of NAMES.filter((n) => n !== name)) {
        const theirs = tonePower(pcm, TONES[other]);
        expect(dB(theirs / Math.max(own, 1)), `${name} hears ${other} over itself`).toBeGreaterThan(20);
      }
    }
    // Continuous 50 packets/s to everyone, with unbroken sequence numbers.
    for (const name of NAMES) {
      const seqs = m.received[name].map((p) => parseRtp(p)!.sequenceNumber);
      expect(seqs).toHaveLength(60);
      seqs.slice(1).forEach((s, i) => expect(s).toBe((seqs[i]! + 1) & 0xffff));
    }
    m.mixer.close();
  });

  it('once A mutes, B and C stop hearing A but still hear each other', async () => {
    const m = await meeting();
    m.run(30);
    m.mixer.setMuted('a', true);
    m.run(40);
    for (const [listener, other] of [['b', 'c'], ['c', 'b']] as const) {
      const pcm = await m.heard(listener, 30);
      expect(dB(tonePower(pcm, TONES[other]) / Math.max(tonePower(pcm, TONES.a), 1))).toBeGreaterThan(20);
    }
    expect(m.mixer.levels().find((l) => l.id === 'a')).toEqual({ id: 'a', level: 127, muted: true });
    m.mixer.close();
  });

  it('shares one encode among listeners who are not speaking', async () => {
    const m = await meeting();
    for (let i = 0; i < 5; i++) await m.mixer.addMember(`listener-${i}`, { payloadType: 111, ssrc: 9000 + i }, () => undefined);
    m.speaking.delete('c');
    m.run(20);
    // Two speakers: one shared encode for the 6 listeners (c and the 5 others), one mix-minus each for a and b.
    const report = m.mixer.tick();
    expect(report.speakers.sort()).toEqual(['a', 'b']);
    expect(report.encodes).toBe(3);
    m.mixer.close();
  });

  it('a corrupt payload or a wild sequence jump degrades only that attendee', async () => {
    const m = await meeting();
    m.run(20);
    m.mixer.onRtp('a', buildRtp({ payloadType: 111, sequenceNumber: 20, timestamp: 0, ssrc: 50, payload: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]) }));
    m.mixer.onRtp('a', Buffer.from([1, 2, 3]));
    m.mixer.onRtp('a', buildRtp({ payloadType: 111, sequenceNumber: 40000, timestamp: 0, ssrc: 51, payload: Uint8Array.from([0xff, 0xfe]) }));
    expect(() => m.run(40)).not.toThrow();
    const pcm = await m.heard('c', 30);
    expect(dB(tonePower(pcm, TONES.b) / Math.max(tonePower(pcm, TONES.c), 1))).toBeGreaterThan(20);
    m.mixer.close();
  });
});

describe('AudioMixer discontinuous transmission', () => {
  it('sends a silent mix as one silence frame then a DTX frame every 400 ms, timestamps running on, and marks the next talkspurt', async () => {
    const m = await meeting();
    m.speaking.clear();
    m.run(61);
    const silent = m.received.a.map((p) => parseRtp(p)!);
    // Ticks 0, 20, 40 and 60: a packet; the 57 in between: none.
    expect(silent).toHaveLength(4);
    expect(silent.map((p) => p.payloadLength)).toEqual([3, 1, 1, 1]);
    for (let i = 1; i < silent.length; i++) {
      expect((silent[i]!.sequenceNumber - silent[i - 1]!.sequenceNumber) & 0xffff).toBe(1);
      expect((silent[i]!.timestamp - silent[i - 1]!.timestamp) >>> 0).toBe(20 * 960);
    }
    expect(silent.some((p) => p.marker)).toBe(false);

    // B starts talking: A gets every tick again, the first packet marked, sequence and timestamp continuous.
    m.speaking.add('b');
    m.run(10);
    const talk = m.received.a.slice(silent.length).map((p) => parseRtp(p)!);
    expect(talk.length).toBeGreaterThanOrEqual(7);
    const first = talk[0]!;
    expect(first.marker).toBe(true);
    expect((first.sequenceNumber - silent.at(-1)!.sequenceNumber) & 0xffff).toBe(1);
    expect(((first.timestamp - silent.at(-1)!.timestamp) >>> 0) % 960).toBe(0);
    expect(talk.slice(1).every((p) => !p.marker)).toBe(true);
    for (let i = 1; i < talk.length; i++) expect((talk[i]!.timestamp - talk[i - 1]!.timestamp) >>> 0).toBe(960);
  });
});
