import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../src-main/shared/typed-emitter.js';
import { mediaSettings } from '../../src-main/server/defaults.js';
import { ChorusError } from '../../src-main/server/errors.js';
import { createLogger } from '../../src-main/server/logger.js';
import { MeetingMedia, type MeetingMediaEvents, type VideoBitratesReport } from '../../src-main/server/media/meeting-media.js';
import { buildRemb } from '../../src-main/server/media/rtp/rtcp.js';
import { buildRtp } from '../../src-main/server/media/rtp/rtp.js';
import type { AnswerPlan, MediaPeerEvents, MediaPeerPort } from '../../src-main/server/media/peer/media-peer.js';
import { parseSdp } from '../../src-main/server/media/peer/sdp.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** MeetingMedia without sockets: stand-in peers, a hand-driven media clock, the real mixer and router. */

const section = (kind: 'audio' | 'video', mid: string, direction: string, extra: string[]): string => [
  kind === 'audio' ? 'm=audio 9 UDP/TLS/RTP/SAVPF 111' : 'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0', `a=mid:${mid}`, `a=${direction}`, 'a=rtcp-mux',
  kind === 'audio' ? 'a=rtpmap:111 opus/48000/2' : 'a=rtpmap:96 VP8/90000',
  ...extra,
].join('\r\n');
/** A Chime-shaped offer: audio, the camera (mid 1: sending with an SSRC, or inactive) and one receive slot (mid 2). */
const offerSdp = (camera: boolean): string => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0',
  section('audio', '0', 'sendrecv', ['a=ssrc:1 cname:c']),
  section('video', '1', camera ? 'sendrecv' : 'inactive', camera ? ['a=ssrc:5555 cname:c'] : []),
  section('video', '2', 'recvonly', []), ''].join('\r\n');

class StandInPeer implements MediaPeerPort {
  readonly events = new TypedEmitter<MediaPeerEvents>();
  plans: AnswerPlan[] = [];
  sent: { mid: string; packet: Buffer }[] = [];
  closed = 0;
  async answer(_offer: string, plan: AnswerPlan): Promise<string> {
    this.plans.push(plan);
    await new Promise((resolve) => setImmediate(resolve));
    return 'v=0\r\n';
  }
  send(mid: string, packet: Buffer): boolean {
    this.sent.push({ mid, packet });
    return true;
  }
  close(): void {
    this.closed++;
  }
  isTrackOpen(): boolean {
    return false;
  }
}

function setup() {
  const peers: StandInPeer[] = [];
  const ticks: ((lateMs: number) => void)[] = [];
  let stopped = 0;
  const clock = new ManualClock();
  const media = new MeetingMedia({
    id: 'meeting-1',
    ice: {},
    logger: createLogger({ level: 'error', write: () => undefined }),
    clock,
    settings: mediaSettings(),
    createPeer: () => {
      const peer = new StandInPeer();
      peers.push(peer);
      return peer;
    },
    startTicker: (_period, onTick) => {
      ticks.push(onTick);
      return { stop: () => stopped++ };
    },
  });
  const events: { type: string; payload: unknown }[] = [];
  for (const type of ['peerFailed', 'audioLevels', 'videoBitrates'] as const) media.events.on(type, (payload) => events.push({ type, payload }));
  const negotiate = (id: string, options: { camera?: boolean; receive?: (string | undefined)[] } = {}) => {
    const sdp = offerSdp(options.camera ?? false);
    return media.negotiate(id, { offerSdp: sdp, offer: parseSdp(sdp)!, receive: options.receive ?? [], mayPublishVideo: true, publishMaxBitrateBps: 1_000_000, meetingCodecs: ['VP8'], muted: false, allowed: { sendAudio: true, receiveAudio: true, receiveVideo: true, sendVideo: true } });
  };
  return { media, peers, ticks, stopped: () => stopped, events, negotiate, clock };
}

describe('MeetingMedia', () => {
  it('reports every 1.5 s each publisher\'s measured rate and each participant\'s downlink figure, fed by REMB on any of its m-sections', async () => {
    const { media, peers, ticks, events, negotiate, clock } = setup();
    await negotiate('alice', { camera: true });
    const bobSsrc = (await negotiate('bob', { receive: [undefined, 'alice'] })).subscriptions[0]!.ssrc;
    const [alicePeer, bobPeer] = peers;
    bobPeer!.events.emit('trackOpen', { mid: '2' });
    let seq = 0;
    // 20 ms of media per tick: five 1000-byte packets (2 Mbps) from alice's camera.
    const tick = () => {
      for (let i = 0; i < 5; i++, seq++) {
        alicePeer!.events.emit('rtp', { mid: '1', packet: buildRtp({ payloadType: 96, sequenceNumber: seq, timestamp: seq * 900, ssrc: 5555, payload: Buffer.concat([Buffer.from([0x10, seq === 0 ? 0 : 1]), Buffer.alloc(986)]) }) });
      }
      clock.advance(20);
      ticks[0]!(0);
    };
    for (let i = 0; i < 74; i++) tick();
    expect(events.filter((e) => e.type === 'videoBitrates')).toEqual([]);
    tick();
    const first = events.filter((e) => e.type === 'videoBitrates').at(-1)!.payload as VideoBitratesReport;
    expect(first.streams).toHaveLength(1);
    expect(first.streams[0]!.publisherId).toBe('alice');
    expect(first.streams[0]!.bps).toBeGreaterThan(1_900_000);
    expect(first.streams[0]!.bps).toBeLessThan(2_100_000);
    expect(media.streamBitrateBps('alice')).toBe(first.streams[0]!.bps);
    const bobFigure = first.downlinks.find((d) => d.participantId === 'bob')!.bps;
    expect(bobFigure).toBeGreaterThan(2_800_000);
    // Bob's browser reports over-use on its audio m-section: its figure drops to the REMB at the next report.
    bobPeer!.events.emit('rtcp', { mid: '0', packet: buildRemb(1, 2_500_000, []) });
    bobPeer!.events.emit('rtcp', { mid: '0', packet: buildRemb(1, 600_000, []) });
    // ...with a little loss on the video it is sent (1 of 256), the only kind of REMB drop trusted.
    const rr = Buffer.alloc(32);
    rr.set([0x81, 201, 0, 7]);
    rr.writeUInt32BE(1, 4);
    rr.writeUInt32BE(bobSsrc, 8);
    rr[12] = 1;
    bobPeer!.events.emit('rtcp', { mid: '2', packet: rr });
    for (let i = 0; i < 75; i++) tick();
    const second = events.filter((e) => e.type === 'videoBitrates').at(-1)!.payload as VideoBitratesReport;
    expect(second.downlinks.find((d) => d.participantId === 'bob')!.bps).toBe(600_000);
    media.close();
  });

  it('negotiates publishers and subscribers by participant id, with our SSRC per mid stable across renegotiations', async () => {
    const { media, negotiate } = setup();
    const alice = await negotiate('alice', { camera: true });
    expect(alice.published).toEqual({ mid: '1', codec: 'VP8' });
    expect(media.publisherCodec('alice')).toBe('VP8');
    const first = await negotiate('bob', { receive: [undefined, 'alice'] });
    expect(first.subscriptions).toEqual([{ mid: '2', publisherId: 'alice', ssrc: expect.any(Number) }]);
    const again = await negotiate('bob', { receive: [undefined, 'alice'] });
    expect(again.subscriptions[0]!.ssrc).toBe(first.subscriptions[0]!.ssrc);
    expect(media.videosSentTo('bob')).toBe(1);
    media.close();
  });

  it('when a peer fails on its own it drops that participant\'s media, says so, and the next negotiation gets a fresh peer', async () => {
    const { media, peers, events, negotiate } = setup();
    await negotiate('alice', { camera: true });
    const failed = peers[0]!;
    failed.events.emit('state', { state: 'failed' });
    expect(events).toEqual([{ type: 'peerFailed', payload: { participantId: 'alice', state: 'failed', hadPublication: true } }]);
    expect(media.publisherCodec('alice')).toBeUndefined();
    // Late media from the dead peer goes nowhere.
    failed.events.emit('rtp', { mid: '1', packet: Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x15, 0xb3, 0x10, 0]) });
    expect(media.videoStats.packetsIn).toBe(0);
    const again = await negotiate('alice', { camera: true });
    expect(peers).toHaveLength(2);
    expect(again.published).toEqual({ mid: '1', codec: 'VP8' });
    media.close();
  });

  it('a participant removed while its offer is answered gets GONE, not a half-applied answer', async () => {
    const { media, peers, negotiate } = setup();
    const pending = negotiate('alice', { camera: true });
    // The peer's answer is still pending (it resolves on a later turn) when the participant goes.
    media.removeParticipant('alice');
    await expect(pending).rejects.toSatisfy((e: unknown) => e instanceof ChorusError && e.code === 'GONE');
    expect(peers[0]!.closed).toBe(1);
    expect(media.publisherCodec('alice')).toBeUndefined();
    media.close();
  });

  it('drives volumes from its clock, and close() cascades once: peers, clock, and no negotiation after', async () => {
    const { media, peers, ticks, stopped, events, negotiate } = setup();
    await negotiate('alice');
    await negotiate('bob');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the mix joins just after the answer (decoders load)
    for (let i = 0; i < 10; i++) ticks[0]!(0);
    const levels = events.filter((e) => e.type === 'audioLevels').map((e) => e.payload as MeetingMediaEvents['audioLevels']);
    expect(levels).toHaveLength(1);
    expect(levels[0]!.levels.map((l) => l.participantId).sort()).toEqual(['alice', 'bob']);
    media.close();
    media.close();
    expect(peers.map((p) => p.closed)).toEqual([1, 1]);
    expect(stopped()).toBe(1);
    await expect(negotiate('carol')).rejects.toSatisfy((e: unknown) => e instanceof ChorusError && e.code === 'CLOSED');
  });
});
