import { describe, expect, it } from 'vitest';
import { JitterBuffer, type PopResult } from '../../src-main/server/media/audio/jitter-buffer.js';
import { addInto, FRAME_SAMPLES, levelDbov, mixMinus } from '../../src-main/server/media/audio/mix.js';
import { SpeakerSelector } from '../../src-main/server/media/audio/speaker-selection.js';

const frameOf = (value: number) => new Int16Array(FRAME_SAMPLES).fill(value);
const tone = (amplitude: number, hz: number) => Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 16000)));

describe('mix-minus', () => {
  it('each listener hears the sum of the others and not itself', () => {
    const a = frameOf(1000);
    const b = frameOf(-300);
    const c = frameOf(50);
    const acc = new Int32Array(FRAME_SAMPLES);
    for (const f of [a, b, c]) addInto(acc, f);
    const out = new Int16Array(FRAME_SAMPLES);
    expect(mixMinus(acc, a, out)[0]).toBe(-250);
    expect(mixMinus(acc, b, out)[0]).toBe(1050);
    expect(mixMinus(acc, c, out)[0]).toBe(700);
    // A listener whose voice is not in the mix gets the whole mix.
    expect(mixMinus(acc, undefined, out)[0]).toBe(750);
  });

  it('saturates instead of wrapping around', () => {
    const acc = new Int32Array(FRAME_SAMPLES);
    for (let i = 0; i < 4; i++) addInto(acc, frameOf(30000));
    const out = new Int16Array(FRAME_SAMPLES);
    expect(mixMinus(acc, undefined, out)[0]).toBe(32767);
    expect(mixMinus(acc, frameOf(30000), out)[0]).toBe(32767);
    const negative = new Int32Array(FRAME_SAMPLES);
    for (let i = 0; i < 3; i++) addInto(negative, frameOf(-32768));
    expect(mixMinus(negative, undefined, out)[0]).toBe(-32768);
    // Subtracting one's own loud voice from a saturated sum is exact, because the sum is 32-bit.
    expect(mixMinus(negative, frameOf(-32768), out)[0]).toBe(-32768);
    const pair = new Int32Array(FRAME_SAMPLES);
    addInto(pair, frameOf(30000));
    addInto(pair, frameOf(20000));
    expect(mixMinus(pair, frameOf(30000), out)[0]).toBe(20000);
  });

  it('reports levels in dBov as the Chime client expects', () => {
    expect(levelDbov(frameOf(0))).toBe(127);
    expect(levelDbov(frameOf(32767))).toBe(0);
    // A full-scale sine has RMS 1/√2: 3 dB below full scale.
    expect(levelDbov(tone(32767, 1000))).toBe(3);
    expect(levelDbov(tone(3277, 1000))).toBe(23);
  });
});

function drain<T>(jb: JitterBuffer<T>, n: number): PopResult<T>[] {
  return Array.from({ length: n }, () => jb.pop());
}
const kinds = <T>(results: PopResult<T>[]) => results.map((r) => (r.kind === 'frame' ? r.payload : r.kind));

describe('jitter buffer', () => {
  it('waits for its target depth, then plays in order', () => {
    const jb = new JitterBuffer<string>({ targetDepth: 2 });
    jb.push(10, 'a');
    expect(jb.pop().kind).toBe('empty');
    jb.push(11, 'b');
    jb.push(12, 'c');
    expect(kinds(drain(jb, 3))).toEqual(['a', 'b', 'c']);
  });

  it('reorders, drops duplicates and late packets, and reports gaps as losses', () => {
    const jb = new JitterBuffer<string>({ targetDepth: 3 });
    expect(jb.push(102, 'c')).toBe('accepted');
    expect(jb.push(100, 'a')).toBe('accepted');
    expect(jb.push(101, 'b')).toBe('accepted');
    expect(jb.push(101, 'b')).toBe('duplicate');
    expect(jb.push(105, 'f')).toBe('accepted');
    expect(kinds(drain(jb, 3))).toEqual(['a', 'b', 'c']);
    expect(jb.push(100, 'old')).toBe('late');
    expect(kinds(drain(jb, 3))).toEqual(['loss', 'loss', 'f']);
  });

  it('crosses the 16-bit sequence wrap-around', () => {
    const jb = new JitterBuffer<number>({ targetDepth: 1 });
    for (const seq of [65534, 65535, 0, 1]) jb.push(seq, seq);
    expect(kinds(drain(jb, 4))).toEqual([65534, 65535, 0, 1]);
    jb.push(3, 3);
    expect(kinds(drain(jb, 2))).toEqual(['loss', 3]);
  });

  it('resynchronises on a wild jump (new SSRC or encoder reset)', () => {
    const jb = new JitterBuffer<string>({ targetDepth: 1 });
    jb.push(1000, 'x');
    expect(kinds(drain(jb, 1))).toEqual(['x']);
    expect(jb.push(40000, 'y')).toBe('resync');
    jb.push(40001, 'z');
    expect(kinds(drain(jb, 2))).toEqual(['y', 'z']);
  });

  it('rebuffers after an underrun instead of inventing losses', () => {
    const jb = new JitterBuffer<string>({ targetDepth: 2 });
    jb.push(1, 'a');
    jb.push(2, 'b');
    expect(kinds(drain(jb, 3))).toEqual(['a', 'b', 'empty']);
    jb.push(3, 'c');
    expect(jb.pop().kind).toBe('empty');
    jb.push(4, 'd');
    expect(kinds(drain(jb, 2))).toEqual(['c', 'd']);
  });

  it('bounds what it holds, skipping ahead when a sender runs far ahead of playout', () => {
    const jb = new JitterBuffer<number>({ targetDepth: 1, capacity: 5 });
    let overflows = 0;
    for (let seq = 0; seq < 20; seq++) if (jb.push(seq, seq) === 'overflow') overflows++;
    expect(jb.depth).toBe(5);
    expect(overflows).toBe(15);
    expect(kinds(drain(jb, 5))).toEqual([15, 16, 17, 18, 19]);
  });

  it('trims a lasting backlog so a burst does not delay a voice for good, but rides out a short one', () => {
    const jb = new JitterBuffer<number>({ targetDepth: 2, capacity: 50, maxExcess: 2, trimAfterTicks: 25 });
    let seq = 0;
    // A stalled sender catches up: 12 frames at once, then one frame per tick like the mixer's clock.
    for (; seq < 12; seq++) jb.push(seq, seq);
    const played: number[] = [];
    for (let tick = 0; tick < 40; tick++) {
      jb.push(seq, seq);
      seq++;
      const frame = jb.pop();
      if (frame.kind === 'frame') played.push(frame.payload);
    }
    // Without trimming, the depth would stay at 12; after 25 ticks it is back near the target.
    expect(jb.depth).toBeLessThanOrEqual(3);
    expect(jb.trimmedFrames).toBeGreaterThanOrEqual(9);
    // Playout stayed in order, skipping only the trimmed frames.
    expect(played).toEqual([...played].sort((a, b) => a - b));

    const steady = new JitterBuffer<number>({ targetDepth: 2, maxExcess: 2, trimAfterTicks: 25 });
    for (let s = 0; s < 6; s++) steady.push(s, s);
    // Five ticks with nothing new: the excess drains by itself, nothing is trimmed.
    expect(kinds(drain(steady, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(steady.trimmedFrames).toBe(0);
  });
});

describe('speaker selection', () => {
  it('picks the loudest few, ignoring silence', () => {
    const sel = new SpeakerSelector({ maxSpeakers: 2, silenceDbov: 50 });
    sel.report('a', 20, 0);
    sel.report('b', 30, 0);
    sel.report('c', 40, 0);
    sel.report('quiet', 90, 0);
    expect([...sel.select(0)].sort()).toEqual(['a', 'b']);
  });

  it('does not flap: a newcomer must be clearly louder to displace a current speaker', () => {
    const sel = new SpeakerSelector({ maxSpeakers: 1, switchMarginDb: 6 });
    sel.report('a', 30, 0);
    expect([...sel.select(0)]).toEqual(['a']);
    sel.report('b', 27, 20);
    sel.report('a', 30, 20);
    expect([...sel.select(20)]).toEqual(['a']);
    sel.report('b', 20, 40);
    sel.report('a', 30, 40);
    expect([...sel.select(40)]).toEqual(['b']);
  });

  it('holds a speaker through short pauses and releases it after the hold time', () => {
    const sel = new SpeakerSelector({ maxSpeakers: 2, holdMs: 600 });
    sel.report('a', 25, 0);
    sel.select(0);
    sel.report('a', 127, 100);
    expect(sel.select(500).has('a')).toBe(true);
    expect(sel.select(700).has('a')).toBe(false);
    sel.report('b', 25, 800);
    sel.remove('b');
    expect(sel.select(800).size).toBe(0);
  });
});
