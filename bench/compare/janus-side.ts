import type { Scenario } from './scenarios.js';
import type { JoinedLoad, LoadContext, RunningServer, ServerSide } from './driver.js';
import { vp8Sender } from '../load/senders.js';
import { JanusSession } from './janus-api.js';
import { janusPeerBinding, joinAudioBridge, publishVideoRoom, subscribeVideoRoom, type JanusPeer } from './janus-peers.js';
import { localIceAddress, startJanus } from './janus-process.js';
import { joinInParallel } from '../../src-main/client/crowd.js';

interface JanusServer extends RunningServer { apiUrl: string }

const AUDIO_ROOM = 1001;
const VIDEO_ROOM = 2001;
/** Janus AudioBridge buffers this many 20 ms packets per participant before mixing: 2 matches Chorus's 40 ms jitter buffer (Janus's default is 6). */
export const AUDIOBRIDGE_PREBUFFERING = 2;

/** Janus 1.1.2 from Debian, with a config the bench writes, driven over its HTTP API. */
export function janusSide(cpus: string | undefined): ServerSide {
  let runs = 0;
  const iceAddress = localIceAddress();
  janusPeerBinding.address = iceAddress;
  return {
    name: 'janus',
    async start(): Promise<JanusServer> {
      // A fresh HTTP port and RTP range per run, so nothing waits on the previous run's sockets.
      const n = runs++ % 20;
      const janus = await startJanus({ httpPort: 18100 + n, rtpBase: 20000 + n * 3000, iceAddress, cpus });
      return { pid: janus.pid, apiUrl: janus.apiUrl, stop: janus.stop };
    },
    async join(server, scenario, load) {
      return joinJanus((server as JanusServer).apiUrl, scenario, load);
    },
  };
}

/** An AudioBridge room mixing at 16 kHz, buffered like Chorus's mixer. */
export async function createAudioRoom(session: JanusSession, room: number): Promise<void> {
  const admin = await session.attach('janus.plugin.audiobridge');
  await session.message(admin, {
    request: 'create', room, sampling_rate: 16000, audiolevel_ext: true,
    default_prebuffering: AUDIOBRIDGE_PREBUFFERING, allow_rtp_participants: false,
  });
}

/** A VP8 VideoRoom for `publishers` cameras. */
export async function createVideoRoom(session: JanusSession, room: number, publishers: number): Promise<void> {
  const admin = await session.attach('janus.plugin.videoroom');
  await session.message(admin, {
    request: 'create', room, publishers, videocodec: 'vp8', audiocodec: 'opus',
    // REMB only, like Chorus; no periodic FIR, so keyframes come from the clip and from PLI.
    transport_wide_cc_ext: false, bitrate: 0, fir_freq: 0, notify_joining: false,
  });
}

async function joinJanus(apiUrl: string, scenario: Scenario, load: LoadContext): Promise<JoinedLoad> {
  const session = await JanusSession.create(apiUrl);
  const peers: JanusPeer[] = [];
  const keep = (p: JanusPeer): JanusPeer => {
    peers.push(p);
    return p;
  };
  const close = async (): Promise<void> => {
    await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
    await session.destroy();
  };
  try {
    const audioRoom = (): Promise<void> => createAudioRoom(session, AUDIO_ROOM);
    const videoRoom = (publishers: number): Promise<void> => createVideoRoom(session, VIDEO_ROOM, publishers);
    const joinAudio = (i: number): Promise<JanusPeer> => {
      const recorder = load.recorder(i);
      return joinAudioBridge(session, AUDIO_ROOM, {
        display: `bench-${i}`, sender: load.audioSender(i),
        onRtp: (packet) => load.accounting.onRtp(`j${i}`, 'audio', packet, recorder),
      }).then(keep);
    };
    const publish = (i: number): Promise<JanusPeer> =>
      publishVideoRoom(session, VIDEO_ROOM, { display: `bench-${i}`, sender: vp8Sender(load.clip, i * 7) }).then(keep);
    const subscribe = (i: number, feeds: number[]): Promise<JanusPeer> =>
      subscribeVideoRoom(session, VIDEO_ROOM, feeds, (packet) => load.accounting.onRtp(`j${i}`, 'video', packet)).then(keep);
    switch (scenario.kind) {
      case 'audio':
        await audioRoom();
        await joinInParallel(scenario.attendees, joinAudio);
        break;
      case 'video': {
        await videoRoom(Math.max(16, scenario.publishers));
        const pubs = await joinInParallel(scenario.publishers, publish);
        await joinInParallel(scenario.subscribers, (k) => subscribe(scenario.publishers + k, pubs.map((p) => p.id)));
        break;
      }
      case 'mixed': {
        // Janus needs three connections per camera attendee (VideoRoom publisher and subscriber,
        // AudioBridge participant) where Chorus uses one.
        await audioRoom();
        await videoRoom(Math.max(16, scenario.publishers));
        const pubs = await joinInParallel(scenario.publishers, publish);
        await joinInParallel(scenario.publishers + scenario.audioOnly, joinAudio);
        await joinInParallel(scenario.publishers, (i) => subscribe(i, pubs.filter((_, k) => k !== i).map((p) => p.id)));
        break;
      }
      default: {
        const never: never = scenario;
        throw new Error(`unknown scenario ${JSON.stringify(never)}`);
      }
    }
    return { close };
  } catch (error) {
    await close();
    throw error;
  }
}
