import { Audio, PeerConnection, Video, type Track } from 'node-datachannel';
import { isRtcpPacket } from '../../src-main/server/media/rtp/rtp.js';
import { parseRtcp } from '../../src-main/server/media/rtp/rtcp.js';
import { opusDtxRequested } from '../../src-main/server/media/peer/sdp.js';
import type { MediaSender, MediaSenderFactory } from '../load/senders.js';
import type { JanusSession } from './janus-api.js';

/**
 * Janus participants over WebRTC with node-datachannel: AudioBridge participants and
 * VideoRoom publishers offer, Janus answers; VideoRoom subscribers answer Janus's offer.
 * Media comes from the same senders the Chorus clients use.
 */

const AUDIO_LEVEL_EXT = 1;
const OPUS_PT = 111;
const VP8_PT = 96;

export interface JanusPeer {
  /** Janus's id for this participant (AudioBridge participant or VideoRoom publisher). */
  id: number;
  close(): Promise<void>;
  /** Connection states so far and media counters, for failure reports. */
  describe(): string;
}

export type RtpListener = (packet: Buffer) => void;

/** Where the Janus-side peers bind: the address Janus gathers on (set once by the bench). */
export const janusPeerBinding = { address: '127.0.0.1' };

function newPeerConnection(name: string): { pc: PeerConnection; states: string[] } {
  const pc = new PeerConnection(name, { iceServers: [], bindAddress: janusPeerBinding.address, disableAutoNegotiation: true });
  const states: string[] = [];
  // Registering a state callback also keeps libdatachannel from closing a young connection (see headless-client.ts).
  pc.onStateChange((s) => { states.push(s); });
  return { pc, states };
}

async function gatheredDescription(pc: PeerConnection, type: 'offer' | 'answer'): Promise<string> {
  const gathered = new Promise<void>((resolve) => pc.onGatheringStateChange((state) => { if (state === 'complete') resolve(); }));
  pc.setLocalDescription(type);
  await Promise.race([gathered, new Promise((r) => setTimeout(r, 2000))]);
  return pc.localDescription()!.sdp;
}

async function connected(pc: PeerConnection, states: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pc.state() !== 'connected') {
    if (Date.now() > deadline || pc.state() === 'closed' || pc.state() === 'failed') throw new Error(`janus peer not connected: ${states.join(' ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isKeyframeRequest = (msg: Buffer): boolean => {
  try {
    return parseRtcp(msg).some((m) => m.kind === 'pli' || m.kind === 'fir');
  } catch {
    return false;
  }
};

/** Janus's last receiver report on what we send: how much of it arrived. */
function receptionReport(msg: Buffer): string | undefined {
  try {
    const rr = parseRtcp(msg).flatMap((m) => (m.kind === 'receiver-report' ? m.reports : []))[0];
    return rr ? `RR lost ${rr.cumulativeLost} highest seq ${rr.highestSequence & 0xffff}` : undefined;
  } catch {
    return undefined;
  }
}

/** Retries as the Chorus headless client does: libdatachannel offering sometimes loses the DTLS race. */
async function withRetries<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await attempt();
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

function sendingPeer(
  session: JanusSession, plugin: string, track: (pc: PeerConnection) => Track, ssrc: number,
  negotiate: (handle: number, offer: string) => Promise<{ id: number; answer: string }>,
  source: { sender: MediaSenderFactory; payloadType: number; audioLevelExtensionId?: number } | undefined,
  onRtp: RtpListener | undefined,
): Promise<JanusPeer> {
  return withRetries(async () => {
    const handle = await session.attach(plugin);
    const { pc, states } = newPeerConnection(plugin);
    let sender: MediaSender | undefined;
    const t = track(pc);
    let rtcpIn = 0;
    let keyframeRequests = 0;
    let lastReport = '';
    t.onMessage((msg: Buffer) => {
      try {
        if (isRtcpPacket(msg)) {
          rtcpIn++;
          if (isKeyframeRequest(msg)) keyframeRequests++;
          lastReport = receptionReport(msg) ?? lastReport;
          if (isKeyframeRequest(msg)) sender?.requestKeyframe();
        } else onRtp?.(msg);
      } catch {
        // guarded: exceptions must not escape a native callback
      }
    });
    const close = async (): Promise<void> => {
      sender?.stop();
      pc.close();
      await session.detach(handle);
    };
    try {
      const offer = await gatheredDescription(pc, 'offer');
      const { id, answer } = await negotiate(handle, offer);
      pc.setRemoteDescription(answer, 'answer');
      await connected(pc, states);
      if (source) {
        sender = source.sender({
          send: (packet) => { if (t.isOpen()) t.sendMessageBinary(packet); },
          ssrc, payloadType: source.payloadType, audioLevelExtensionId: source.audioLevelExtensionId,
          dtx: opusDtxRequested(answer, source.payloadType),
        });
      }
      return { id, close, describe: () => `${plugin} states ${states.join(',')} track ${t.isOpen() ? 'open' : 'closed'} rtcp in ${rtcpIn} keyframe requests ${keyframeRequests} ${lastReport}` };
    } catch (error) {
      await close();
      throw error;
    }
  });
}

const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffff0);

/** An AudioBridge participant over WebRTC: sends `sender`'s Opus, hears the room's mix-minus. */
export function joinAudioBridge(session: JanusSession, room: number, options: { sender: MediaSenderFactory; onRtp?: RtpListener; display: string }): Promise<JanusPeer> {
  const ssrc = randomSsrc();
  return sendingPeer(session, 'janus.plugin.audiobridge', (pc) => {
    const audio = new Audio('0', 'SendRecv');
    audio.addOpusCodec(OPUS_PT);
    audio.addSSRC(ssrc, 'bench', 'mic', 'mic');
    audio.parseSdpLine(`a=extmap:${AUDIO_LEVEL_EXT} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
    return pc.addTrack(audio);
  }, ssrc, async (handle, offer) => {
    const reply = await session.message(handle, { request: 'join', room, display: options.display, muted: false }, { type: 'offer', sdp: offer });
    if (!reply.jsep) throw new Error(`audiobridge join gave no answer: ${JSON.stringify(reply.data)}`);
    return { id: Number(reply.data.id), answer: reply.jsep.sdp };
  }, { sender: options.sender, payloadType: OPUS_PT, audioLevelExtensionId: AUDIO_LEVEL_EXT }, options.onRtp);
}

/** A VideoRoom publisher: one sendonly VP8 stream. */
export function publishVideoRoom(session: JanusSession, room: number, options: { sender: MediaSenderFactory; display: string }): Promise<JanusPeer> {
  const ssrc = randomSsrc();
  return sendingPeer(session, 'janus.plugin.videoroom', (pc) => {
    const video = new Video('0', 'SendOnly');
    video.addVP8Codec(VP8_PT);
    video.addSSRC(ssrc, 'bench', 'cam', 'cam');
    return pc.addTrack(video);
  }, ssrc, async (handle, offer) => {
    const joined = await session.message(handle, { request: 'join', ptype: 'publisher', room, display: options.display });
    const reply = await session.message(handle, { request: 'publish' }, { type: 'offer', sdp: offer });
    if (!reply.jsep) throw new Error(`videoroom publish gave no answer: ${JSON.stringify(reply.data)}`);
    return { id: Number(joined.data.id), answer: reply.jsep.sdp };
  }, { sender: options.sender, payloadType: VP8_PT }, undefined);
}

/** A VideoRoom subscriber to `feeds` on one connection (Janus 1.x multistream): Janus offers, we answer. */
export function subscribeVideoRoom(session: JanusSession, room: number, feeds: number[], onRtp: RtpListener): Promise<JanusPeer> {
  return withRetries(async () => {
    const handle = await session.attach('janus.plugin.videoroom');
    const { pc, states } = newPeerConnection('subscriber');
    // Held for the connection's life: a Track object that is garbage-collected stops delivering
    // (seen here as subscribers that received nothing, or stopped, depending on GC timing).
    const tracks: Track[] = [];
    const close = async (): Promise<void> => {
      tracks.length = 0;
      pc.close();
      await session.detach(handle);
    };
    try {
      pc.onTrack((track) => {
        tracks.push(track);
        track.onMessage((msg: Buffer) => {
          try {
            if (!isRtcpPacket(msg)) onRtp(msg);
          } catch {
            // guarded: exceptions must not escape a native callback
          }
        });
      });
      const reply = await session.message(handle, { request: 'join', ptype: 'subscriber', room, streams: feeds.map((feed) => ({ feed })) });
      if (!reply.jsep) throw new Error(`videoroom subscribe gave no offer: ${JSON.stringify(reply.data)}`);
      pc.setRemoteDescription(reply.jsep.sdp, 'offer');
      const answer = await gatheredDescription(pc, 'answer');
      await session.message(handle, { request: 'start' }, { type: 'answer', sdp: answer });
      await connected(pc, states);
      return { id: handle, close, describe: () => `subscriber states ${states.join(',')} tracks ${tracks.length}` };
    } catch (error) {
      await close();
      throw error;
    }
  });
}
