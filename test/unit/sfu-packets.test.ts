import { describe, expect, it } from 'vitest';
import { isH264KeyframeStart, isVp8KeyframeStart } from '../../src-main/server/media/video/keyframes.js';
import { buildFir, buildNack, buildPli, buildRemb, parseRtcp } from '../../src-main/server/media/rtp/rtcp.js';
import { absSendTimeOf, buildRtp, isRtcpPacket, parseRtp, readExtensionByte, readHeaderExtensions, rewriteRtp, rewrittenRtpBound, seqDelta, writeRewrittenRtp } from '../../src-main/server/media/rtp/rtp.js';
import { findCodec, parseSdp, stripTransportCc, TRANSPORT_CC_URI } from '../../src-main/server/media/peer/sdp.js';
import { isCodec } from '../../src-main/server/media/video/codecs.js';
import { prng } from '../helpers/prng.js';


describe('RTP', () => {
  const payload = Buffer.from([0x10, 0x00, 0x9d, 0x01, 0x2a]);
  const packet = buildRtp({
    payloadType: 96, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, marker: true, payload,
    extensions: [{ id: 2, data: Buffer.from([1, 2, 3]) }, { id: 13, data: Buffer.from([4]) }],
  });

  it('round-trips header fields and one-byte extensions', () => {
    const info = parseRtp(packet)!;
    expect(info).toMatchObject({ marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payloadLength: 5 });
    expect(packet.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength)).toEqual(payload);
    expect(readHeaderExtensions(packet, info).map((e) => [e.id, [...e.data]])).toEqual([[2, [1, 2, 3]], [13, [4]]]);
  });

  it('rewrites SSRC, payload type, sequence and timestamp and renumbers extensions, dropping unmapped ones', () => {
    const info = parseRtp(packet)!;
    const out = rewriteRtp(packet, info, { ssrc: 42, payloadType: 100, sequenceNumber: 7, timestamp: 1234, extensionIds: new Map([[13, 4]]) });
    const o = parseRtp(out)!;
    expect(o).toMatchObject({ ssrc: 42, payloadType: 100, sequenceNumber: 7, timestamp: 1234, marker: true, payloadLength: 5 });
    expect(readHeaderExtensions(out, o).map((e) => [e.id, [...e.data]])).toEqual([[4, [4]]]);
    expect(out.subarray(o.payloadOffset)).toEqual(payload);
    // The source packet is shared between subscribers and must not change.
    expect(parseRtp(packet)!.ssrc).toBe(0xdeadbeef);
    const bare = rewriteRtp(packet, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1 });
    expect(parseRtp(bare)!.extension).toBeUndefined();
  });

  it('stamps abs-send-time (6.18 fixed-point seconds, 24 bits) under the receiver\'s id, with or without forwarded extensions', () => {
    expect(absSendTimeOf(0)).toBe(0);
    expect(absSendTimeOf(1000)).toBe(1 << 18);
    expect(absSendTimeOf(250)).toBe(1 << 16);
    // 64 s wraps to 0: the receiver only looks at differences.
    expect(absSendTimeOf(64_000)).toBe(0);
    expect(absSendTimeOf(64_000 + 500)).toBe(1 << 17);
    const info = parseRtp(packet)!;
    const value = absSendTimeOf(12_345.678);
    const out = rewriteRtp(packet, info, { ssrc: 42, payloadType: 100, sequenceNumber: 7, timestamp: 1, extensionIds: new Map([[13, 4]]), absSendTime: { id: 3, value } });
    const o = parseRtp(out)!;
    expect(o.extension!.profile).toBe(0xbede);
    expect(readHeaderExtensions(out, o).map((e) => [e.id, [...e.data]])).toEqual([[4, [4]], [3, [value >> 16, (value >> 8) & 0xff, value & 0xff]]]);
    expect(out.subarray(o.payloadOffset)).toEqual(payload);
    // No other extension: the block holds abs-send-time alone.
    const alone = rewriteRtp(packet, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1, absSendTime: { id: 2, value: 0xabcdef } });
    const a = parseRtp(alone)!;
    expect(readHeaderExtensions(alone, a).map((e) => [e.id, [...e.data]])).toEqual([[2, [0xab, 0xcd, 0xef]]]);
    expect(alone.subarray(a.payloadOffset)).toEqual(payload);
    // An id past 14 needs the two-byte form, for every element.
    const two = rewriteRtp(packet, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1, extensionIds: new Map([[2, 5]]), absSendTime: { id: 20, value: 0x010203 } });
    const t = parseRtp(two)!;
    expect(t.extension!.profile).toBe(0x1000);
    expect(readHeaderExtensions(two, t).map((e) => [e.id, [...e.data]])).toEqual([[5, [1, 2, 3]], [20, [1, 2, 3]]]);
  });

  it('never writes past rewrittenRtpBound, whatever the extensions', () => {
    const random = prng(7);
    const out = Buffer.alloc(4096);
    for (let i = 0; i < 2000; i++) {
      const extensions = Array.from({ length: Math.floor(random() * 6) }, () => ({ id: 4 + Math.floor(random() * 11), data: Buffer.alloc(1 + Math.floor(random() * 16)) }));
      const p = buildRtp({ payloadType: 96, sequenceNumber: i, timestamp: i, ssrc: 1, payload: Buffer.alloc(Math.floor(random() * 100)), extensions });
      const info = parseRtp(p)!;
      const ids = new Map(extensions.map((e) => [e.id, random() < 0.3 ? 15 + e.id : e.id] as [number, number]));
      const absSendTime = random() < 0.7 ? { id: random() < 0.5 ? 3 : 200, value: 0xffffff } : undefined;
      out.fill(0xee);
      const length = writeRewrittenRtp(out, p, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1, extensionIds: ids, absSendTime });
      expect(length).toBeLessThanOrEqual(rewrittenRtpBound(p, info));
      expect(out[rewrittenRtpBound(p, info)]).toBe(0xee);
      const o = parseRtp(out.subarray(0, length))!;
      expect(o.payloadLength).toBe(info.payloadLength);
      if (absSendTime) expect(readExtensionByte(out.subarray(0, length), o, absSendTime.id)).toBe(0xff);
    }
  });

  it('reads one extension byte in place (the audio level), one-byte or two-byte form', () => {
    const info = parseRtp(packet)!;
    expect(readExtensionByte(packet, info, 13)).toBe(4);
    expect(readExtensionByte(packet, info, 2)).toBe(1);
    expect(readExtensionByte(packet, info, 5)).toBe(-1);
    const twoByte = buildRtp({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload, extensions: [{ id: 20, data: Buffer.from([0x9f]) }, { id: 1, data: Buffer.alloc(0) }] });
    const twoInfo = parseRtp(twoByte)!;
    expect(twoInfo.extension!.profile).toBe(0x1000);
    expect(readExtensionByte(twoByte, twoInfo, 20)).toBe(0x9f);
    expect(readExtensionByte(twoByte, twoInfo, 1)).toBe(-1);
    expect(readExtensionByte(Buffer.from(payload), { marker: false, payloadOffset: 0, payloadLength: 0, extension: undefined }, 1)).toBe(-1);
  });

  it('removes padding', () => {
    const padded = Buffer.concat([buildRtp({ payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload }), Buffer.from([0, 0, 3])]);
    padded[0]! |= 0x20;
    const info = parseRtp(padded)!;
    expect(info.paddingLength).toBe(3);
    expect(info.payloadLength).toBe(5);
    expect(rewriteRtp(padded, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1 }).length).toBe(12 + 5);
  });

  it('rejects malformed packets and never throws on garbage', () => {
    expect(parseRtp(Buffer.alloc(11))).toBeUndefined();
    expect(parseRtp(Buffer.from([0x40, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBeUndefined();
    expect(parseRtp(Buffer.from([0x8f, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBeUndefined();
    expect(parseRtp(buildPli(1, 2))).toBeUndefined();
    const random = prng(1);
    for (let i = 0; i < 20_000; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      if (random() < 0.5 && buf.length > 0) buf[0] = 0x80 | (buf[0]! & 0x3f);
      const info = parseRtp(buf);
      if (info) {
        expect(info.payloadOffset + info.payloadLength + info.paddingLength).toBe(buf.length);
        readHeaderExtensions(buf, info);
        rewriteRtp(buf, info, { ssrc: 1, payloadType: 96, sequenceNumber: 1, timestamp: 1, extensionIds: new Map([[1, 1]]) });
      }
      parseRtcp(buf);
    }
  });

  it('demultiplexes RTCP from RTP and computes wrapping sequence distance', () => {
    expect(isRtcpPacket(buildPli(1, 2))).toBe(true);
    expect(isRtcpPacket(packet)).toBe(false);
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 90)).toBe(-10);
  });
});

describe('RTCP', () => {
  it('round-trips PLI, FIR, REMB and NACK in one compound packet', () => {
    const compound = Buffer.concat([buildPli(1, 2), buildFir(3, 4, 9), buildRemb(5, 1_500_000, [6, 7]), buildNack(8, 9, [100, 101, 105, 116, 117, 200])]);
    const messages = parseRtcp(compound);
    expect(messages[0]).toEqual({ kind: 'pli', senderSsrc: 1, mediaSsrc: 2 });
    expect(messages[1]).toEqual({ kind: 'fir', senderSsrc: 3, mediaSsrcs: [4] });
    expect(messages[2]).toMatchObject({ kind: 'remb', senderSsrc: 5, ssrcs: [6, 7] });
    expect(Math.abs((messages[2] as { bitrate: number }).bitrate - 1_500_000)).toBeLessThan(1_500_000 / 1000);
    expect(messages[3]).toEqual({ kind: 'nack', senderSsrc: 8, mediaSsrc: 9, sequenceNumbers: [100, 101, 105, 116, 117, 200] });
  });

  it('stops at a truncated packet without throwing', () => {
    const pli = buildPli(1, 2);
    expect(parseRtcp(pli.subarray(0, 10))).toEqual([]);
    expect(parseRtcp(Buffer.concat([pli, Buffer.from([0x81, 206, 0, 9])]))).toEqual([{ kind: 'pli', senderSsrc: 1, mediaSsrc: 2 }]);
  });
});

describe('keyframe detection', () => {
  it('VP8: S bit, partition 0, and the frame tag P bit', () => {
    expect(isVp8KeyframeStart(Buffer.from([0x10, 0x00]))).toBe(true);
    expect(isVp8KeyframeStart(Buffer.from([0x10, 0x01]))).toBe(false);
    expect(isVp8KeyframeStart(Buffer.from([0x00, 0x00]))).toBe(false);
    // X=1, I=1 with a 15-bit picture id, then the frame tag.
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0x80, 0x81, 0x23, 0x00]))).toBe(true);
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0x80, 0x81, 0x23, 0x01]))).toBe(false);
    expect(isVp8KeyframeStart(Buffer.from([0x90]))).toBe(false);
  });

  it('H.264: IDR, SPS, STAP-A and FU-A starts', () => {
    expect(isH264KeyframeStart(Buffer.from([0x65, 0]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x67, 0]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x41, 0]))).toBe(false);
    expect(isH264KeyframeStart(Buffer.from([0x78, 0, 2, 0x67, 0, 0, 2, 0x68, 0]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x85, 0]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x05, 0]))).toBe(false);
  });
});

describe('SDP', () => {
  const offer = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    'm=audio 9 UDP/TLS/RTP/SAVPF 63 111', 'a=mid:0', 'a=sendrecv',
    `a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level`, `a=extmap:3 ${TRANSPORT_CC_URI}`,
    'a=rtpmap:63 red/48000/2', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtcp-fb:111 transport-cc',
    'a=ssrc:11 cname:x',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102', 'a=mid:1', 'a=sendonly', `a=extmap:3 ${TRANSPORT_CC_URI}`,
    'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 transport-cc', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
    'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'a=ssrc-group:FID 22 23', 'a=ssrc:22 cname:x', 'a=ssrc:23 cname:x', 'a=msid:s t',
    '',
  ].join('\r\n');

  it('extracts mids, directions, codecs, extensions and SSRCs', () => {
    const parsed = parseSdp(offer)!;
    expect(parsed.sections.map((s) => [s.kind, s.mid, s.direction])).toEqual([['audio', '0', 'sendrecv'], ['video', '1', 'sendonly']]);
    const [audio, video] = parsed.sections;
    expect(findCodec(audio!, 'opus')).toMatchObject({ payloadType: 111, clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' });
    expect(findCodec(video!, 'VP8')!.rtcpFeedback).toEqual(['nack pli', 'transport-cc']);
    expect(isCodec('H264', findCodec(video!, 'H264')!)).toBe(true);
    expect(video!.ssrcs).toEqual([22, 23]);
    expect(video!.rtxSsrcs.get(22)).toBe(23);
    expect(audio!.extensions).toContainEqual({ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' });
  });

  it('strips transport-cc and nothing else', () => {
    const stripped = stripTransportCc(offer);
    expect(stripped).not.toContain('transport-cc');
    expect(stripped).not.toContain(TRANSPORT_CC_URI);
    expect(stripped).toContain('a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level');
    expect(stripped).toContain('a=rtcp-fb:96 nack pli');
  });

  it('rejects what is not SDP', () => {
    expect(parseSdp('hello')).toBeUndefined();
    expect(parseSdp(undefined as unknown as string)).toBeUndefined();
  });
});
