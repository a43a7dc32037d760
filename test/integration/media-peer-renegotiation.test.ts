import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src-main/server/logger.js';
import { planAnswer } from '../../src-main/server/media/peer/answer-planner.js';
import { MediaPeer } from '../../src-main/server/media/peer/media-peer.js';
import { parseSdp } from '../../src-main/server/media/peer/sdp.js';

/**
 * Re-offers shaped like amazon-chime-sdk-js's on Chromium, answered by a real
 * libdatachannel MediaPeer. When a remote video leaves the INDEX the SDK stops its
 * receive transceiver, so the next offer carries that m-section at port 0; once
 * that is negotiated, Chrome recycles the slot for the next video under a new mid.
 */

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).padStart(2, '0').toUpperCase()).join(':');

function videoSection(mid: string, direction: string, port = 9): string {
  return [
    `m=video ${port} UDP/TLS/RTP/SAVPF 96 97`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Ab1c',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    'a=setup:actpass',
    `a=mid:${mid}`,
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 nack',
    'a=rtcp-fb:96 nack pli',
    'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96',
  ].join('\r\n');
}

/** An offer with audio mid 0, the camera (mid 1, inactive) and one m-section per [mid, direction, port]. */
function offer(videos: [mid: string, direction: string, port?: number][]): string {
  const bundled = ['0', '1', ...videos.filter(([, , port]) => port !== 0).map(([mid]) => mid)];
  const audio = [
    // Chromium lists audio/red first.
    'm=audio 9 UDP/TLS/RTP/SAVPF 63 111',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Ab1c',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=msid:client-stream client-audio',
    'a=rtcp-mux',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:111 opus/48000/2',
    'a=ssrc:1111 cname:client',
  ].join('\r\n');
  return [
    'v=0',
    'o=mozilla-chrome 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${bundled.join(' ')}`,
    'a=msid-semantic: WMS client-stream',
    audio,
    videoSection('1', 'inactive'),
    ...videos.map(([mid, direction, port]) => videoSection(mid, direction, port)),
    '',
  ].join('\r\n');
}

/** What the answer says per mid: its port and direction, and the BUNDLE group. */
function summarize(sdp: string): { bundle: string[]; sections: Record<string, string> } {
  const bundle = /^a=group:BUNDLE (.*)$/m.exec(sdp)?.[1]?.trim().split(' ') ?? [];
  const sections: Record<string, string> = {};
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const port = section.split(' ')[1];
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1] ?? '?';
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(section)?.[1] ?? '?';
    sections[mid] = port === '0' ? 'rejected' : direction;
  }
  return { bundle, sections };
}

/** The audio m-section's payload types in answer order, and its rtpmap and fmtp lines. */
function audioCodecs(sdp: string): string[] {
  const section = sdp.split(/\r?\nm=/).find((s) => s.startsWith('audio')) ?? '';
  return [section.split('\r\n')[0]!.split(' ').slice(3).join(' '), ...section.split('\r\n').filter((l) => /^a=(rtpmap|fmtp):(63|111) /.test(l))];
}

const peers: MediaPeer[] = [];
afterEach(() => {
  for (const peer of peers.splice(0)) peer.close();
});

describe('MediaPeer renegotiation with stopped m-sections', () => {
  it('answers a stopped receive m-section rejected and leaves it out of BUNDLE, then takes a recycled slot under its new mid', async () => {
    const peer = new MediaPeer('renegotiation', { host: '127.0.0.1' }, createLogger({ level: 'error', write: () => undefined }));
    peers.push(peer);
    const ssrcs = new Map<string, number>();
    const answer = async (sdp: string, receiveStreamIds: number[]) => {
      const { plan } = planAnswer({
        offer: parseSdp(sdp)!,
        // The sources to receive, one per video m-section (stream id 0: none).
        receive: receiveStreamIds.map((id) => (id > 0 ? `publisher-${id}` : undefined)),
        mayPublishVideo: false,
        meetingCodecs: ['VP8'],
        sourceCodec: () => 'VP8',
        ssrcForMid: (mid) => ssrcs.get(mid) ?? ssrcs.set(mid, 5000 + ssrcs.size).get(mid)!,
        audioSsrc: 4242,
      });
      // The next re-offer follows at once: on a loaded machine node-datachannel's onTrack
      // callbacks for the mids just answered can arrive after it, and must not change the answer.
      return summarize(await peer.answer(sdp, plan));
    };

    // Receiving a camera (mid 2) and a content share (mid 3).
    expect(await answer(offer([['2', 'recvonly'], ['3', 'recvonly']]), [0, 7, 8])).toEqual({
      bundle: ['0', '1', '2', '3'],
      sections: { 0: 'sendrecv', 1: 'inactive', 2: 'sendonly', 3: 'sendonly' },
    });
    // The share stops: mid 3 comes back stopped. Answering it sendonly made Chrome refuse the whole answer.
    expect(await answer(offer([['2', 'recvonly'], ['3', 'inactive', 0]]), [0, 7, 0])).toEqual({
      bundle: ['0', '1', '2'],
      sections: { 0: 'sendrecv', 1: 'inactive', 2: 'sendonly', 3: 'rejected' },
    });
    // A new share: Chrome reuses the slot under mid 4; mid 3 must not linger in BUNDLE.
    expect(await answer(offer([['2', 'recvonly'], ['4', 'recvonly']]), [0, 7, 9])).toEqual({
      bundle: ['0', '1', '2', '4'],
      sections: { 0: 'sendrecv', 1: 'inactive', 2: 'sendonly', 4: 'sendonly' },
    });
  });
});

describe('MediaPeer audio answer', () => {
  it('answers audio/red over Opus first, as offered, so the browser sends its frames with redundancy', async () => {
    const peer = new MediaPeer('red', { host: '127.0.0.1' }, createLogger({ level: 'error', write: () => undefined }));
    peers.push(peer);
    const sdp = offer([]);
    const { plan } = planAnswer({ offer: parseSdp(sdp)!, receive: [undefined], mayPublishVideo: false, meetingCodecs: ['VP8'], sourceCodec: () => undefined, ssrcForMid: () => 5000, audioSsrc: 4242 });
    const codecs = audioCodecs(await peer.answer(sdp, plan));
    expect(codecs[0]).toBe('63 111');
    expect(codecs).toContain('a=rtpmap:63 red/48000/2');
    expect(codecs).toContain('a=fmtp:63 111/111');
    expect(codecs.some((l) => l.startsWith('a=rtpmap:111 opus/48000/2'))).toBe(true);
  });
});

describe('MediaPeer answer to a camera sent as RID simulcast', () => {
  const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
  const RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
  const RRID = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
  /** The offer with the camera (mid 1) as Chrome writes it for the SDK's SimulcastTransceiverController. */
  const withCamera = (sdp: string, direction: string, simulcast: boolean) => sdp.replace('a=mid:1\r\na=inactive', [
    'a=mid:1', `a=${direction}`, `a=extmap:4 ${MID}`, `a=extmap:10 ${RID}`, `a=extmap:11 ${RRID}`,
    ...(simulcast ? ['a=msid:client-stream client-camera', 'a=rid:low send', 'a=rid:mid send', 'a=rid:hi send', 'a=simulcast:send low;mid;hi'] : []),
  ].join('\r\n'));
  /** The camera m-section of an answer. */
  const camera = (sdp: string) => sdp.split(/\r?\nm=/).find((s) => /^a=mid:1$/m.test(s)) ?? '';

  it('refuses it inactive, rejecting the simulcast, and keeps the RID extension so that Chrome can offer it again', async () => {
    const peer = new MediaPeer('simulcast', { host: '127.0.0.1' }, createLogger({ level: 'error', write: () => undefined }));
    peers.push(peer);
    const answer = async (sdp: string) => {
      const result = planAnswer({
        offer: parseSdp(sdp)!, receive: [undefined, 'publisher-7'], mayPublishVideo: true, meetingCodecs: ['VP8'],
        sourceCodec: () => 'VP8', ssrcForMid: () => 5000, audioSsrc: 4242,
      });
      return { refusal: result.publishRefusal, publish: result.publish, camera: camera(await peer.answer(sdp, result.plan)) };
    };

    // Camera off: the SDK's camera transceiver is inactive, and offers the extensions.
    const off = await answer(withCamera(offer([['2', 'recvonly']]), 'inactive', false));
    expect(off.refusal).toBeUndefined();
    expect(off.camera).toMatch(/^a=inactive$/m);
    // Dropping the RID extension here made Chrome's next offer, with the camera on, fail to apply.
    expect(off.camera).toContain(`a=extmap:10 ${RID}`);

    // Camera on, as low, mid and hi with no SSRCs: refused (the SDK hears 206) and answered inactive.
    const on = await answer(withCamera(offer([['2', 'recvonly']]), 'sendrecv', true));
    expect(on.refusal).toBe('rid-simulcast');
    expect(on.publish).toBeUndefined();
    expect(on.camera).toMatch(/^a=inactive$/m);
    expect(on.camera).toContain(`a=extmap:10 ${RID}`);
    expect(on.camera).toContain(`a=extmap:4 ${MID}`);
    expect(on.camera).not.toMatch(/^a=(simulcast|rid):/m);
  });
});
