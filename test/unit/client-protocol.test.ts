import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { applyAnswer, splitCandidates, withoutCandidates } from '../../src-main/client/sdp-exchange.js';
import { SignalingChannel } from '../../src-main/client/signaling-channel.js';
import { encodeSignalFrame, peekSignalFrameType, SdkSignalFrame_Type, serverFrame } from '../../src-main/shared/signaling/frames.js';

const OFFER = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendrecv',
  'a=candidate:1 1 UDP 2122317823 127.0.0.1 40001 typ host', 'a=end-of-candidates', 'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=recvonly',
  'a=candidate:2 1 UDP 2122317822 127.0.0.1 40002 typ host', 'a=rtpmap:96 VP8/90000', '',
].join('\r\n');

describe('the headless client\'s SDP exchange', () => {
  it('sends its offer without candidates, so the answerer cannot start ICE and DTLS before the answer is applied', () => {
    const sent = withoutCandidates(OFFER);
    expect(sent).not.toMatch(/a=candidate|a=end-of-candidates/);
    expect(sent).toContain('a=rtpmap:111 opus/48000/2\r\nm=video');
  });

  it('applies the answer first and adds its candidates afterwards, each with its m-section\'s mid', () => {
    const calls: string[] = [];
    applyAnswer({
      setRemoteDescription: (sdp) => calls.push(`description candidates=${/a=candidate/.test(sdp)}`),
      addRemoteCandidate: (candidate, mid) => calls.push(`candidate ${mid} ${candidate.split(' ')[4]}:${candidate.split(' ')[5]}`),
    }, OFFER);
    expect(calls).toEqual(['description candidates=false', 'candidate 0 127.0.0.1:40001', 'candidate 1 127.0.0.1:40002']);
    expect(splitCandidates(OFFER).description).not.toContain('end-of-candidates');
  });
});

describe('reading a signaling frame\'s type without decoding it', () => {
  it('finds the type behind any timestamp, for every frame the server sends', () => {
    const frames: [Uint8Array, SdkSignalFrame_Type][] = [
      [serverFrame.audioMetadata({ attendeeStates: [{ audioStreamId: 1, volume: 30 }] }), SdkSignalFrame_Type.AUDIO_METADATA],
      [serverFrame.index({ sources: [] }), SdkSignalFrame_Type.INDEX],
      [serverFrame.pong(7), SdkSignalFrame_Type.PING_PONG],
      [encodeSignalFrame({ type: SdkSignalFrame_Type.AUDIO_METADATA, timestampMs: 0n }), SdkSignalFrame_Type.AUDIO_METADATA],
      [encodeSignalFrame({ type: SdkSignalFrame_Type.AUDIO_METADATA, timestampMs: 2n ** 63n - 1n }), SdkSignalFrame_Type.AUDIO_METADATA],
    ];
    for (const [bytes, type] of frames) expect(peekSignalFrameType(bytes)).toBe(type);
  });

  it('gives up on bytes it cannot read, without throwing', () => {
    for (const bytes of [[], [5], [5, 0x08], [5, 0x08, 0xff, 0xff], [5, 0x0a, 3, 1, 2, 3], [5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]) {
      expect(peekSignalFrameType(Uint8Array.from(bytes))).toBeUndefined();
    }
  });
});

describe('SignalingChannel', () => {
  let server: WebSocketServer | undefined;
  afterEach(() => server?.close());

  it('with ignoreAudioMetadata keeps every frame but AUDIO_METADATA', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => '_aws_wt_session' });
    server.on('connection', (ws) => {
      ws.send(serverFrame.audioMetadata({ attendeeStates: [{ audioStreamId: 1, volume: 30 }] }));
      ws.send(serverFrame.index({ sources: [] }));
    });
    await new Promise((resolve) => server!.once('listening', resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    for (const ignore of [true, false]) {
      const channel = new SignalingChannel(url, 'token', { ignoreAudioMetadata: ignore });
      const index = channel.next(SdkSignalFrame_Type.INDEX);
      await channel.open();
      await index;
      expect(channel.frames.map((f) => f.type)).toEqual(ignore
        ? [SdkSignalFrame_Type.INDEX]
        : [SdkSignalFrame_Type.AUDIO_METADATA, SdkSignalFrame_Type.INDEX]);
      channel.close();
    }
  });
});
