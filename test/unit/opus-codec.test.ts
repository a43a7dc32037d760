import { describe, expect, it } from 'vitest';
import { prng } from '../helpers/prng.js';
import { concatPcm as concat, toneFrames, toneShare } from '../helpers/audio-analysis.js';
import { FRAME_SAMPLES } from '../../src-main/server/media/audio/mix.js';
import { createOpusDecoder, createOpusEncoder } from '../../src-main/server/media/audio/opus-codec.js';

describe('Opus codec (libopus-wasm), 16 kHz mono 20 ms', () => {
  it('round-trips a tone: the decoded signal is dominated by that frequency', async () => {
    const encoder = await createOpusEncoder();
    const decoder = await createOpusDecoder();
    const decoded = toneFrames(440, 25).map((f) => {
      const packet = encoder.encode(f);
      expect(packet.length).toBeGreaterThan(10);
      expect(packet.length).toBeLessThan(200);
      const result = decoder.decode(packet);
      if (!result.ok) throw new Error('decode failed');
      expect(result.pcm).toHaveLength(FRAME_SAMPLES);
      return result.pcm;
    });
    const signal = concat(decoded.slice(5));
    expect(toneShare(signal, 440)).toBeGreaterThan(0.8);
    expect(toneShare(signal, 880)).toBeLessThan(0.05);
    encoder.close();
    encoder.close();
    decoder.close();
  });

  it('conceals a lost frame, with FEC from the following packet when present', async () => {
    const encoder = await createOpusEncoder({ fec: true });
    const decoder = await createOpusDecoder();
    const packets = toneFrames(660, 20).map((f) => encoder.encode(f));
    for (const p of packets.slice(0, 10)) decoder.decode(p);
    const fromFec = decoder.conceal(packets[11]);
    const plc = decoder.conceal();
    expect(fromFec).toHaveLength(FRAME_SAMPLES);
    expect(plc).toHaveLength(FRAME_SAMPLES);
    expect(toneShare(fromFec, 660)).toBeGreaterThan(0.5);
  });

  it('reports corrupt packets without throwing and keeps decoding afterwards', async () => {
    const encoder = await createOpusEncoder();
    const decoder = await createOpusDecoder();
    expect(decoder.decode(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ ok: false, reason: 'corrupt' });
    expect(decoder.decode(new Uint8Array(0)).ok).toBe(false);
    const random = prng(99);
    let corrupt = 0;
    for (let i = 0; i < 3000; i++) {
      const packet = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      const result = decoder.decode(packet);
      if (!result.ok) corrupt++;
      else expect(result.pcm.length).toBeGreaterThan(0);
    }
    expect(corrupt).toBeGreaterThan(0);
    const good = decoder.decode(encoder.encode(toneFrames(440, 1)[0]!));
    expect(good.ok).toBe(true);
  });

  it('runs 300 decoders and 10 encoders at once without interference', async () => {
    const decoders = await Promise.all(Array.from({ length: 300 }, () => createOpusDecoder()));
    const encoders = await Promise.all(Array.from({ length: 10 }, () => createOpusEncoder()));
    const tones = [300, 500, 700, 900, 1100, 1300, 1500, 1700, 1900, 2100];
    const streams = tones.map((hz) => toneFrames(hz, 15));
    const out: Int16Array[][] = decoders.map(() => []);
    for (let f = 0; f < 15; f++) {
      const packets = encoders.map((e, i) => e.encode(streams[i]![f]!));
      decoders.forEach((d, j) => {
        const r = d.decode(packets[j % 10]!);
        if (r.ok) out[j]!.push(r.pcm);
      });
    }
    decoders.forEach((_, j) => {
      expect(toneShare(concat(out[j]!.slice(5)), tones[j % 10]!)).toBeGreaterThan(0.7);
    });
    for (const d of decoders) d.close();
    for (const e of encoders) e.close();
  });
});
