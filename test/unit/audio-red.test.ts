import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src-main/server/logger.js';
import { AudioMixer } from '../../src-main/server/media/audio/audio-mixer.js';
import { createOpusDecoder, createOpusEncoder } from '../../src-main/server/media/audio/opus-codec.js';
import { RedPayload } from '../../src-main/server/media/audio/red.js';
import { planAnswer } from '../../src-main/server/media/peer/answer-planner.js';
import { parseSdp } from '../../src-main/server/media/peer/sdp.js';
import { buildRtp, parseRtp } from '../../src-main/server/media/rtp/rtp.js';
import { concatPcm, dB, tonePower, toneFrames } from '../helpers/audio-analysis.js';

const OPUS = 111;
const RED = 63;

/** An RFC 2198 payload as Chrome writes it: redundant blocks (oldest first), then the primary. */
function redPayload(redundant: { framesBack: number; data: Uint8Array }[], primary: Uint8Array, pt = OPUS): Buffer {
  const headers = redundant.flatMap(({ framesBack, data }) => {
    const offset = framesBack * 960;
    return [0x80 | pt, offset >> 6, ((offset & 0x3f) << 2) | (data.length >> 8), data.length & 0xff];
  });
  return Buffer.concat([Buffer.from([...headers, pt]), ...redundant.map((r) => Buffer.from(r.data)), Buffer.from(primary)]);
}

describe('RedPayload', () => {
  it('reads redundant blocks oldest first and the primary, as offsets into the packet', () => {
    const payload = redPayload([{ framesBack: 2, data: Buffer.from([1, 2, 3]) }, { framesBack: 1, data: Buffer.from([4, 5]) }], Buffer.from([6, 7, 8, 9]));
    const packet = Buffer.concat([Buffer.alloc(12), payload]);
    const red = new RedPayload();
    expect(red.read(packet, 12, payload.length, OPUS)).toBe(true);
    expect(red.count).toBe(2);
    expect([...red.framesBack.subarray(0, 2)]).toEqual([2, 1]);
    expect([...packet.subarray(red.offsets[0]!, red.offsets[0]! + red.lengths[0]!)]).toEqual([1, 2, 3]);
    expect([...packet.subarray(red.offsets[1]!, red.offsets[1]! + red.lengths[1]!)]).toEqual([4, 5]);
    expect([...packet.subarray(red.primaryOffset, red.primaryOffset + red.primaryLength)]).toEqual([6, 7, 8, 9]);
    expect(red.primaryPayloadType).toBe(OPUS);
  });

  it('refuses truncated or overlong payloads and skips blocks it cannot place', () => {
    const red = new RedPayload();
    const good = redPayload([{ framesBack: 1, data: Buffer.from([4, 5]) }], Buffer.from([6]));
    for (const bad of [Buffer.alloc(0), good.subarray(0, 3), Buffer.from([0x80 | OPUS, 0, 4, 200, OPUS, 1, 2]), Buffer.alloc(40, 0x80 | OPUS)]) {
      expect(red.read(bad, 0, bad.length, OPUS), bad.toString('hex')).toBe(false);
    }
    // A block at an offset that is not whole 20 ms frames, or of another payload type, is left out.
    const odd = Buffer.from([0x80 | OPUS, 0, 100 << 2, 1, 0x80 | 0, 960 >> 6, 0, 1, OPUS, 9, 8, 7]);
    expect(red.read(odd, 0, odd.length, OPUS)).toBe(true);
    expect(red.count).toBe(0);
    expect(red.primaryLength).toBe(1);
  });
});

describe('AudioMixer with audio/red and real Opus', () => {
  /** A speaks a 440 Hz tone for 100 frames, losing every fifth packet on the way; what does B hear? */
  async function lossyTalk(withRed: boolean) {
    const mixer = new AudioMixer({ codecs: { createEncoder: () => createOpusEncoder(), createDecoder: createOpusDecoder }, logger: silentLogger, now: () => 0 });
    await mixer.whenReady();
    const heard: Buffer[] = [];
    await mixer.addMember('a', { payloadType: OPUS, ssrc: 1, redPayloadType: withRed ? RED : undefined }, () => undefined);
    await mixer.addMember('b', { payloadType: OPUS, ssrc: 2, redPayloadType: withRed ? RED : undefined }, (p) => heard.push(Buffer.from(p)));
    const encoder = await createOpusEncoder();
    let previous: Uint8Array | undefined;
    let lost = 0;
    for (let frame = 0; frame < 100; frame++) {
      const opus = Uint8Array.from(encoder.encode(toneFrames(440, 1, 8000, frame)[0]!));
      const payload = withRed ? redPayload(previous ? [{ framesBack: 1, data: previous }] : [], opus) : Buffer.from(opus);
      previous = opus;
      if (frame % 5 === 3) lost++;
      else mixer.onRtp('a', buildRtp({ payloadType: withRed ? RED : OPUS, sequenceNumber: frame, timestamp: frame * 960, ssrc: 77, payload }));
      mixer.tick();
    }
    const decoder = await createOpusDecoder();
    const pcm = concatPcm(heard.slice(10).map((p) => {
      const info = parseRtp(p)!;
      const result = decoder.decode(new Uint8Array(p.subarray(info.payloadOffset)));
      return result.ok ? result.pcm : new Int16Array(320);
    }));
    const recovered = mixer.redundancy('a').recoveredFrames;
    mixer.close();
    return { lost, recovered, pcm };
  }

  it('fills every single lost frame from the next packet, so the listener hears the tone as if nothing was lost', async () => {
    const red = await lossyTalk(true);
    const plain = await lossyTalk(false);
    expect(red.lost).toBe(20);
    expect(red.recovered).toBe(20);
    expect(plain.recovered).toBe(0);
    // Concealment smears the tone; redundancy keeps it as clean as the original.
    const purity = (pcm: Int16Array) => dB(tonePower(pcm, 440) / Math.max(tonePower(pcm, 660) + tonePower(pcm, 300), 1));
    expect(purity(red.pcm)).toBeGreaterThan(purity(plain.pcm));
    expect(tonePower(red.pcm, 440)).toBeGreaterThan(0);
  });
});

describe('answering audio/red', () => {
  const offer = (red: string) => parseSdp([
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 63 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:Ab1c', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=fingerprint:sha-256 AA:BB', 'a=setup:actpass', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux',
    'a=rtpmap:63 red/48000/2', `a=fmtp:63 ${red}`, 'a=rtpmap:111 opus/48000/2', 'a=ssrc:1 cname:x', '',
  ].join('\r\n'))!;
  const plan = (red: string) => planAnswer({ offer: offer(red), receive: [], mayPublishVideo: false, meetingCodecs: ['VP8'], sourceCodec: () => undefined, ssrcForMid: () => 1, audioSsrc: 2 }).plan;

  it('accepts RED carrying Opus, and only that', () => {
    expect(plan('111/111').audio?.redPayloadType).toBe(RED);
    expect(plan('111/0').audio?.redPayloadType).toBeUndefined();
    expect(plan('').audio?.redPayloadType).toBeUndefined();
  });
});
