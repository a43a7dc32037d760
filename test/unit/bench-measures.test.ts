import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { opusDtxRequested } from '../../src-main/server/media/peer/sdp.js';
import { silencePayload } from '../../src-main/server/media/audio/opus-output.js';
import { buildReport, markdownReport, type CompareConditions } from '../../bench/compare/report.js';
import { crc32, Raster } from '../../bench/compare/png.js';
import { niceMax, renderChart } from '../../bench/compare/chart.js';
import { FULL_SCENARIOS, attendeesOf, type Scenario } from '../../bench/compare/scenarios.js';
import { capacity, median, medianRun, ratio, sustained, type RunMetrics } from '../../bench/compare/stats.js';
import { lossFraction, ReceiverStats } from '../../bench/load/rtp-stats.js';
import { readVideoTag } from '../../bench/load/senders.js';
import { isVp8Keyframe, packetizeVp8, parseIvf, syntheticClip, syntheticVp8Frame } from '../../bench/load/vp8-clip.js';

const run = (over: Partial<RunMetrics>): RunMetrics => ({
  server: 'chorus', scenario: 'audio-10', repetition: 0, seconds: 8, cpu: 0.1, loadCpu: 0.2, peakRssMiB: 100,
  videoPacketsPerSec: 0, audioPacketsPerSec: 500, bytesPerSec: 1000, videoDeliveredPct: null, audioDeliveredPct: 100,
  lossPct: 0, jitterMs: 1, latencyP50Ms: 40, latencyP99Ms: 60, gapsPerListenerMin: 0, cpuUsPerVideoPacket: null, cpuUsPerPacketOut: 10,
  cpuWithoutVideo: null, cpuUsPerVideoPacketNet: null, rssMiB: 100,
  ...over,
});

describe('medians, ratios and capacity', () => {
  it('takes medians of odd and even counts, per metric, ignoring nulls', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    const m = medianRun([run({ cpu: 0.3, latencyP50Ms: null }), run({ cpu: 0.1, latencyP50Ms: 50 }), run({ cpu: 0.2, latencyP50Ms: 30 })]);
    expect(m.cpu).toBe(0.2);
    expect(m.latencyP50Ms).toBe(40);
    expect(m.videoDeliveredPct).toBeNull();
    expect(m.server).toBe('chorus');
  });

  it('finds the largest meeting within one core and 1 % loss, and attendees per core there', () => {
    const audio = (n: number): Scenario => ({ kind: 'audio', id: `audio-${n}`, attendees: n, speakers: 4 });
    const results = [
      { scenario: audio(10), metrics: run({ cpu: 0.05 }) },
      { scenario: audio(50), metrics: run({ cpu: 0.25 }) },
      { scenario: audio(100), metrics: run({ cpu: 0.9, lossPct: 3 }) },
      { scenario: audio(250), metrics: run({ cpu: 1.0, audioDeliveredPct: 80 }) },
    ];
    expect(capacity(results, attendeesOf)).toEqual({ largest: 50, attendeesPerCore: 200 });
    expect(capacity(results.slice(2), attendeesOf)).toEqual({ largest: null, attendeesPerCore: null });
    expect(sustained(run({ cpu: 1.01 }))).toBe(false);
    expect(ratio(6, 3)).toBe(2);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });

  it('reports the goals: audio attendees per core at the largest size both sustained, video CPU per packet', () => {
    const conditions: CompareConditions = {
      startedAt: 'a', finishedAt: 'b', machine: 'm', loadAverageBefore: [1], loadAverageAfter: [1], pinned: true, repetitions: 3,
      secondsPerRun: 8, quick: false, video: 'v', audio: 'a', janus: 'j', failures: [],
    };
    const runs = [
      run({ scenario: 'audio-50', cpu: 0.1 }), run({ server: 'janus', scenario: 'audio-50', cpu: 0.5 }),
      run({ scenario: 'audio-100', cpu: 0.2 }), run({ server: 'janus', scenario: 'audio-100', cpu: 1.0, lossPct: 5 }),
      run({ scenario: 'video-4x4', cpu: 0.1, cpuUsPerVideoPacket: 30, videoDeliveredPct: 100 }),
      run({ server: 'janus', scenario: 'video-4x4', cpu: 0.05, cpuUsPerVideoPacket: 20, videoDeliveredPct: 100, audioDeliveredPct: null }),
    ];
    const scenarios = FULL_SCENARIOS.filter((s) => ['audio-50', 'audio-100', 'video-4x4'].includes(s.id));
    const report = buildReport(scenarios, runs, conditions);
    expect(report.goals.audioComparedAt).toBe(50);
    expect(report.goals.audioAttendeesPerCoreRatio).toBeCloseTo(5);
    expect(report.goals.videoCpuPerPacketRatio['video-4x4']).toBeCloseTo(1.5);
    expect(report.capacity.audio).toEqual({ chorus: { largest: 100, attendeesPerCore: 500 }, janus: { largest: 50, attendeesPerCore: 100 } });
    const md = markdownReport(report);
    expect(md).toContain('| audio-100 | Janus | 1.000 |');
    expect(md).toMatch(/goal >= 5\): 5\.0 at 50 attendees/);
    const png = renderChart(report);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

describe('receiver accounting', () => {
  it('counts loss from sequence gaps across a 16-bit wrap, and duplicates as no loss', () => {
    const stats = new ReceiverStats();
    const seqs = [65530, 65531, 65533, 65534, 65535, 0, 1, 3, 3, 4];
    seqs.forEach((seq, i) => stats.onPacket('a', seq, i * 960, 100, i * 20, 48_000));
    const totals = stats.since({ perStream: new Map() });
    expect(totals.expected).toBe(11);
    expect(totals.packets).toBe(10);
    expect(totals.bytes).toBe(1000);
    expect(lossFraction({ packets: 9, expected: 11 })).toBeCloseTo(2 / 11);
    expect(lossFraction({ packets: 12, expected: 11 })).toBe(0);
  });

  it('measures a window from a mark, and RFC 3550 jitter: zero for steady arrivals, about the deviation otherwise', () => {
    const steady = new ReceiverStats();
    for (let i = 0; i < 100; i++) steady.onPacket('s', i, i * 960, 10, 1000 + i * 20, 48_000);
    const mark = steady.mark();
    for (let i = 100; i < 150; i++) steady.onPacket('s', i, i * 960, 10, 1000 + i * 20, 48_000);
    expect(steady.since(mark)).toMatchObject({ packets: 50, expected: 50, bytes: 500, streams: 1 });
    expect(steady.since(mark).jitterMs).toBeCloseTo(0, 6);
    const jittery = new ReceiverStats();
    // Every other packet 10 ms late: |D| alternates around 10 ms, so J converges near 10 ms.
    for (let i = 0; i < 400; i++) jittery.onPacket('j', i, i * 960, 10, i * 20 + (i % 2) * 10, 48_000);
    expect(jittery.since({ perStream: new Map() }).jitterMs).toBeGreaterThan(8);
    expect(jittery.since({ perStream: new Map() }).jitterMs).toBeLessThan(10.5);
  });

  it('measures audio by the seconds its timestamps cover, so DTX gaps count as delivered and a stall does not', () => {
    const stats = new ReceiverStats();
    // 1 s of speech, then 1 s of silence sent as DTX (a packet every 400 ms), near the 32-bit timestamp wrap.
    let seq = 0;
    const base = 2 ** 32 - 960 * 60;
    for (let f = 0; f < 50; f++) stats.onPacket('dtx', seq++, (base + f * 960) % 2 ** 32, 40, f * 20, 48_000);
    for (let f = 50; f < 100; f += 20) stats.onPacket('dtx', seq++, (base + f * 960) % 2 ** 32, 1, f * 20, 48_000);
    stats.onPacket('dtx', seq, (base + 99 * 960) % 2 ** 32, 40, 99 * 20, 48_000);
    const totals = stats.since({ perStream: new Map() });
    expect(totals.packets).toBe(54);
    expect(totals.expected).toBe(54);
    expect(totals.audioSeconds).toBeCloseTo(2, 6);
    // A stream that stops for the second half covers half the time.
    const stalled = new ReceiverStats();
    for (let f = 0; f < 50; f++) stalled.onPacket('s', f, f * 960, 40, f * 20, 48_000);
    const mark = stalled.mark();
    for (let f = 50; f < 75; f++) stalled.onPacket('s', f, f * 960, 40, f * 20, 48_000);
    expect(stalled.since(mark).audioSeconds).toBeCloseTo(0.5, 6);
    // Video streams do not count as audio.
    const video = new ReceiverStats();
    for (let f = 0; f < 10; f++) video.onPacket('v', f, f * 6000, 1000, f * 66, 90_000);
    expect(video.since({ perStream: new Map() }).audioSeconds).toBe(0);
  });
});

describe('VP8 media', () => {
  it('reads frames out of an IVF file and tells keyframes by the frame tag', () => {
    const key = syntheticVp8Frame(50, true, 1);
    const inter = syntheticVp8Frame(30, false, 2);
    const header = Buffer.alloc(32);
    header.write('DKIF', 0, 'latin1');
    header.writeUInt16LE(32, 6);
    const frameHeader = (size: number): Buffer => {
      const h = Buffer.alloc(12);
      h.writeUInt32LE(size, 0);
      return h;
    };
    const frames = parseIvf(Buffer.concat([header, frameHeader(key.length), key, frameHeader(inter.length), inter]));
    expect(frames.map((f) => f.length)).toEqual([50, 30]);
    expect(frames.map(isVp8Keyframe)).toEqual([true, false]);
    expect([...key.subarray(3, 6)]).toEqual([0x9d, 0x01, 0x2a]);
    expect(() => parseIvf(Buffer.from('RIFF0000000000000000000000000000'))).toThrow(/IVF/);
  });

  it('packetises per RFC 7741: S bit on the first packet only, PictureID in every descriptor, payload intact', () => {
    const frame = syntheticVp8Frame(2500, true, 3);
    const packets = packetizeVp8(frame, 0x1234, 1100);
    expect(packets).toHaveLength(3);
    expect(packets.map((p) => p[0]! & 0x10)).toEqual([0x10, 0, 0]);
    for (const p of packets) expect(((p[2]! & 0x7f) << 8) | p[3]!).toBe(0x1234);
    expect(Buffer.concat(packets.map((p) => p.subarray(4)))).toEqual(frame);
  });

  it('keeps the synthetic fallback at the target bitrate with a keyframe every 2 s', () => {
    const clip = syntheticClip(10);
    const bytes = clip.frames.reduce((n, f) => n + f.data.length, 0);
    expect((bytes * 8) / 10 / 1000).toBeGreaterThan(450);
    expect((bytes * 8) / 10 / 1000).toBeLessThan(550);
    expect(clip.frames.filter((f) => f.keyframe)).toHaveLength(5);
  });

  it('reads the latency tag from the end of a payload, and none from a tiny one', () => {
    const packet = Buffer.alloc(40);
    packet.writeUInt32BE(0xdeadbeef, 36);
    expect(readVideoTag(packet, 12, 28)).toBe(0xdeadbeef);
    expect(readVideoTag(packet, 12, 8)).toBeUndefined();
  });
});

describe('PNG raster', () => {
  it('has the standard CRC-32 and writes pixels that decode back', () => {
    expect(crc32(Buffer.from('IEND', 'latin1'))).toBe(0xae426082);
    const r = new Raster(4, 3);
    r.set(2, 1, [10, 20, 30]);
    const png = r.toPng();
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idatLength = png.readUInt32BE(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    const rowBytes = 4 * 3 + 1;
    expect([...raw.subarray(rowBytes + 1 + 2 * 3, rowBytes + 1 + 3 * 3)]).toEqual([10, 20, 30]);
    expect(raw[rowBytes]).toBe(0);
  });

  it('draws text from the bitmap font and picks nice axis maxima', () => {
    const r = new Raster(20, 20);
    r.text(0, 0, '1', [0, 0, 0], 1);
    // Glyph '1' row 0 is 0x04: only the middle column is set.
    expect(r.get(2, 0)).toEqual([0, 0, 0]);
    expect(r.get(0, 0)).toEqual([255, 255, 255]);
    expect([niceMax(0.37), niceMax(1.05), niceMax(230), niceMax(0)]).toEqual([0.5, 2, 250, 1]);
  });
});

describe('speech-like load', () => {
  it('repeats every SPURT_PERIOD_FRAMES, so replaying one pre-encoded period is the same signal', async () => {
    const { speakerMicrophone, SPURT_PERIOD_FRAMES } = await import('../../bench/audio-load.js');
    for (const speaker of [0, 3]) {
      const mic = speakerMicrophone(speaker, 4, []);
      let voiced = 0;
      for (let n = 0; n < SPURT_PERIOD_FRAMES; n++) {
        const a = mic.frame(n);
        const b = mic.frame(n + 7 * SPURT_PERIOD_FRAMES);
        expect(b === null).toBe(a === null);
        if (a && b) {
          voiced++;
          // Floating-point phase over longer times may round one sample step differently.
          for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1);
        }
      }
      expect(voiced).toBeGreaterThan(0);
    }
  });
});

describe('silence as browsers send it', () => {
  it('follows the answer: usedtx=1 means a silence frame, then a DTX frame every 400 ms; otherwise 50 silence frames a second', () => {
    const chorusLike = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n';
    const janusLike = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n';
    expect(opusDtxRequested(chorusLike, 111)).toBe(true);
    expect(opusDtxRequested(janusLike, 111)).toBe(false);
    expect(opusDtxRequested(chorusLike.replace(/111/g, '109'), 111)).toBe(false);
    expect(opusDtxRequested(chorusLike.replace('usedtx=1', 'usedtx=0'), 111)).toBe(false);

    const second = (dtx: boolean) => Array.from({ length: 50 }, (_, run) => silencePayload(run, dtx));
    expect(second(false).every((p) => p?.length === 3)).toBe(true);
    const withDtx = second(true);
    expect(withDtx.map((p) => p?.length ?? 0)).toEqual(Array.from({ length: 50 }, (_, run) => (run === 0 ? 3 : run % 20 === 0 ? 1 : 0)));
  });
});
