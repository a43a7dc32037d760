/**
 * One viewer of the constrained-network benchmark, run inside its network namespace
 * (`ip netns exec NS node --import tsx bench/constrained/viewer.ts CONFIG_JSON`). It joins Chorus
 * (Chime signaling, every camera and the mix) or Janus (a VideoRoom subscriber to every camera and an
 * AudioBridge participant), prints `{"ready":true}` once connected, lets the link settle for `warmupS`,
 * measures `measureS` and prints `{"summary":{...}}`. Exit code 1 with the error on stderr otherwise.
 */
import { HeadlessClient, type JoinInfo } from '../../src-main/client/headless-client.js';
import { pinCertificate } from '../../src-main/client/pinned-tls.js';
import { SdkSignalFrame_Type } from '../../src-main/shared/signaling/frames.js';
import { JanusSession } from '../compare/janus-api.js';
import { janusPeerBinding, joinAudioBridge, subscribeVideoRoom, type JanusPeer } from '../compare/janus-peers.js';
import { opusSender } from '../load/senders.js';
import { AudioReception, VideoReception, type VideoSummary } from './reception.js';

export type ViewerConfig = {
  bindAddress: string;
  warmupS: number;
  measureS: number;
} & (
  | { server: 'chorus'; meeting: JoinInfo['meeting']; attendee: JoinInfo['attendee']; cameras: number; serverUrl: string; fingerprint256?: string }
  | { server: 'janus'; apiUrl: string; videoRoom: number; audioRoom: number; feeds: number[]; display: string }
);

export interface ViewerSummary extends VideoSummary {
  audioLossPct: number | null;
  /** Videos the server had paused, and said so with PAUSE, at the end (Chorus; Janus has no such thing: null). */
  pausedVideos: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as ViewerConfig;
  const video = new VideoReception();
  const audio = new AudioReception();
  let pausedNow: () => number | null = () => null;
  let close: () => Promise<void>;
  switch (config.server) {
    case 'chorus': {
      const tls = config.fingerprint256 ? await pinCertificate(config.serverUrl, config.fingerprint256) : undefined;
      const client = await HeadlessClient.join(config.meeting, config.attendee, {
        tls, receiveSlots: config.cameras, receiverReports: { lossRate: 0 }, bindAddress: config.bindAddress,
        recordAudio: false, ignoreAudioMetadata: true,
        onRtp: (kind, _mid, packet) => (kind === 'video' ? video.onPacket(packet) : audio.onPacket(packet)),
      });
      await client.subscribe(config.meeting.MediaPlacement!.AudioHostUrl!, client.latestSources(config.attendee.AttendeeId));
      await client.connected(20_000);
      pausedNow = () => {
        const paused = new Set<number>();
        for (const f of client.frames) {
          if (f.type === SdkSignalFrame_Type.PAUSE) for (const g of f.pause?.groupIds ?? []) paused.add(g);
          if (f.type === SdkSignalFrame_Type.RESUME) for (const g of f.pause?.groupIds ?? []) paused.delete(g);
        }
        return paused.size;
      };
      close = () => client.close();
      break;
    }
    case 'janus': {
      janusPeerBinding.address = config.bindAddress;
      const session = await JanusSession.create(config.apiUrl);
      const peers: JanusPeer[] = [];
      close = async () => {
        await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
        await session.destroy();
      };
      // Audio first: once the cameras flow, a narrow link has little room left for Janus's HTTP API.
      peers.push(await joinAudioBridge(session, config.audioRoom, { sender: opusSender([null]), onRtp: (packet) => audio.onPacket(packet), display: config.display }));
      peers.push(await subscribeVideoRoom(session, config.videoRoom, config.feeds, (packet) => video.onPacket(packet)));
      break;
    }
    default: {
      const never: never = config;
      throw new Error(`unknown server in ${JSON.stringify(never)}`);
    }
  }
  console.log(JSON.stringify({ ready: true }));
  await sleep(config.warmupS * 1000);
  video.startWindow();
  audio.startWindow();
  await sleep(config.measureS * 1000);
  const summary: ViewerSummary = { ...video.summary(), audioLossPct: audio.lossPct(), pausedVideos: pausedNow() };
  console.log(JSON.stringify({ summary }));
  await close();
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
