import { describe, expect, it } from 'vitest';
import { planAnswer } from '../../src-main/server/media/peer/answer-planner.js';
import { parseSdp, type RtpCodecDesc } from '../../src-main/server/media/peer/sdp.js';
import { codecOf, isCodec } from '../../src-main/server/media/video/codecs.js';
import { isAv1KeyframeStart, isKeyframeStart, isVp9KeyframeStart } from '../../src-main/server/media/video/keyframes.js';

const desc = (name: string, fmtp?: string): RtpCodecDesc => ({ payloadType: 96, name, clockRate: 90000, fmtp, rtcpFeedback: [] });

describe('video codecs by name and profile', () => {
  it('tells H.264 profiles apart by profile-level-id (any level), and needs packetization mode 1', () => {
    expect(codecOf(desc('H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'))).toBe('H264');
    expect(codecOf(desc('H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034'))).toBe('H264');
    expect(codecOf(desc('H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f'))).toBe('H264_HIGH');
    expect(codecOf(desc('H264', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f'))).toBeUndefined();
    expect(codecOf(desc('H264', 'packetization-mode=1;profile-level-id=4d001f'))).toBeUndefined();
  });

  it('takes VP9 profile 0 and AV1 main only', () => {
    expect(codecOf(desc('VP9', 'profile-id=0'))).toBe('VP9');
    expect(codecOf(desc('VP9'))).toBe('VP9');
    expect(codecOf(desc('VP9', 'profile-id=2'))).toBeUndefined();
    expect(codecOf(desc('AV1', 'level-idx=5;profile=0;tier=0'))).toBe('AV1');
    expect(codecOf(desc('AV1', 'profile=1'))).toBeUndefined();
    expect(isCodec('VP8', desc('vp8'))).toBe(true);
  });

  it('finds keyframe starts in VP9 (B set, P clear, spatial layer 0) and AV1 (N bit) payloads', () => {
    // VP9: I=1 with a 15-bit picture id, L=1: layer byte TID 0, SID 0.
    expect(isVp9KeyframeStart(Buffer.from([0xa8, 0x80, 0x01, 0x00, 0x00]))).toBe(true);
    // Same, but spatial layer 1 of the keyframe: not its start.
    expect(isVp9KeyframeStart(Buffer.from([0xa8, 0x80, 0x01, 0x02, 0x00]))).toBe(false);
    // Inter-picture predicted (P), or not the beginning of a frame (B clear).
    expect(isVp9KeyframeStart(Buffer.from([0xe8, 0x01, 0x00]))).toBe(false);
    expect(isVp9KeyframeStart(Buffer.from([0x80, 0x01]))).toBe(false);
    expect(isVp9KeyframeStart(Buffer.from([0x08]))).toBe(true);
    expect(isAv1KeyframeStart(Buffer.from([0x18, 0x0a]))).toBe(true);
    expect(isAv1KeyframeStart(Buffer.from([0x10, 0x0a]))).toBe(false);
    expect(isKeyframeStart('H264_HIGH', Buffer.from([0x65]))).toBe(true);
    // Read in place: the payload sits after a 12-byte header.
    expect(isKeyframeStart('AV1', Buffer.concat([Buffer.alloc(12), Buffer.from([0x08])]), 12, 1)).toBe(true);
  });
});

/** A camera m-section offering `codecs` in the client's order of preference. */
function offer(codecs: [pt: number, name: string, fmtp?: string][]): string {
  const video = [
    `m=video 9 UDP/TLS/RTP/SAVPF ${codecs.map(([pt]) => pt).join(' ')}`, 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendrecv', 'a=ssrc:5555 cname:c',
    ...codecs.flatMap(([pt, name, fmtp]) => [`a=rtpmap:${pt} ${name}/90000`, ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : [])]),
  ];
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', ...video, ''].join('\r\n');
}

const CHROME_ORDER: [number, string, string?][] = [
  [96, 'VP8'], [98, 'VP9', 'profile-id=0'], [102, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
  [112, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f'], [45, 'AV1', 'level-idx=5;profile=0;tier=0'],
];

describe('choosing the codec a client publishes in', () => {
  const plan = (sdp: string, meetingCodecs: Parameters<typeof planAnswer>[0]['meetingCodecs']) => planAnswer({
    offer: parseSdp(sdp)!, receive: [], mayPublishVideo: true, meetingCodecs, sourceCodec: () => undefined, ssrcForMid: () => 1, audioSsrc: 2,
  });

  it('follows the client\'s own order (what setVideoCodecSendPreferences puts first), answering with its format parameters', () => {
    const h264First = offer([CHROME_ORDER[2]!, ...CHROME_ORDER.filter((_, i) => i !== 2)]);
    const result = plan(h264First, ['VP8', 'H264', 'H264_HIGH', 'VP9', 'AV1']);
    expect(result.publish).toMatchObject({ codec: 'H264', payloadType: 102 });
    expect(result.plan.receiveVideos[0]).toMatchObject({ codec: 'H264', fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' });
    const av1First = offer([CHROME_ORDER[4]!, ...CHROME_ORDER.slice(0, 4)]);
    expect(plan(av1First, ['VP8', 'H264', 'H264_HIGH', 'VP9', 'AV1']).publish?.codec).toBe('AV1');
  });

  it('falls back to the next preferred codec that everyone in the meeting can decode', () => {
    const vp9First = offer([CHROME_ORDER[1]!, CHROME_ORDER[2]!, CHROME_ORDER[0]!]);
    expect(plan(vp9First, ['VP8', 'H264']).publish?.codec).toBe('H264');
    expect(plan(vp9First, ['VP8']).publish?.codec).toBe('VP8');
    expect(plan(offer([CHROME_ORDER[1]!]), ['VP8']).publishRefusal).toBe('not-allowed');
  });
});

describe('header extensions on the answer', () => {
  const ABS = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
  const twoSections = [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendrecv', 'a=ssrc:5555 cname:c', 'a=rtpmap:96 VP8/90000',
    `a=extmap:2 ${ABS}`, 'a=extmap:13 urn:3gpp:video-orientation',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:2', 'a=recvonly', 'a=rtpmap:96 VP8/90000',
    `a=extmap:2 ${ABS}`, 'a=extmap:13 urn:3gpp:video-orientation', '',
  ].join('\r\n');

  it('negotiates abs-send-time on the m-sections the server sends on (for the receiver\'s REMB), not on the camera it receives', () => {
    const result = planAnswer({
      offer: parseSdp(twoSections)!, receive: [undefined, 'pub'], mayPublishVideo: true, meetingCodecs: ['VP8'], sourceCodec: () => 'VP8', ssrcForMid: () => 1, audioSsrc: 2,
    });
    expect(result.plan.sendVideos[0]!.extensions.map((e) => e.uri).sort()).toEqual([ABS, 'urn:3gpp:video-orientation']);
    expect(result.subscriptions[0]!.extensions.find((e) => e.uri === ABS)?.id).toBe(2);
    expect(result.plan.receiveVideos[0]!.extensions.map((e) => e.uri)).toEqual(['urn:3gpp:video-orientation']);
    expect(result.publish!.extensions.map((e) => e.uri)).toEqual(['urn:3gpp:video-orientation']);
  });
});
