import { HeadlessClient, type HeadlessOptions } from '../../src-main/client/headless-client.js';
import { createMeetingWithAttendees, userIds } from '../../test/helpers/meetings.js';
import { startBenchServer, type BenchServer } from '../bench-server.js';
import { vp8Sender } from '../load/senders.js';
import type { JoinedLoad, LoadContext, RunningServer, ServerSide } from './driver.js';
import { joinInParallel } from '../../src-main/client/crowd.js';
import { attendeesOf, type Scenario } from './scenarios.js';

const AUDIO_LEVEL_EXT = 1;

type ChorusServer = RunningServer & BenchServer;

/** Chorus: the real server process, joined by headless Chime-signaling clients. */
export function chorusSide(cpus: string | undefined): ServerSide {
  return {
    name: 'chorus',
    async start(): Promise<ChorusServer> {
      return startBenchServer({ logLevel: 'warn', cpus });
    },
    async join(server, scenario, load) {
      return joinChorus(server as ChorusServer, scenario, load);
    },
  };
}

async function joinChorus(server: BenchServer, scenario: Scenario, load: LoadContext): Promise<JoinedLoad> {
  const api = server.api();
  const clients: HeadlessClient[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((c) => c.close()));
    api.destroy();
  };
  try {
    const { meeting: Meeting, attendees } = await createMeetingWithAttendees(api, `bench-${scenario.id}`, userIds('bench', attendeesOf(scenario)));
    const base = (i: number): HeadlessOptions => {
      const recorder = load.recorder(i);
      return {
        audioLevelExtensionId: AUDIO_LEVEL_EXT, recordAudio: false, ignoreAudioMetadata: true,
        onRtp: (kind, _mid, packet) => load.accounting.onRtp(`c${i}`, kind, packet, recorder),
      };
    };
    const join = (i: number, options: HeadlessOptions): Promise<HeadlessClient> =>
      HeadlessClient.join(Meeting!, attendees[i]!, { ...base(i), ...options }).then((c) => {
        clients.push(c);
        return c;
      });
    switch (scenario.kind) {
      case 'audio':
        await joinInParallel(attendees.length, (i) => join(i, { audioSender: load.audioSender(i) }));
        break;
      case 'video': {
        // As in `npm run bench sfu`: publishers send only video, subscribers only receive.
        const pubs = await joinInParallel(scenario.publishers, (i) => join(i, { publishVideo: true, videoSender: vp8Sender(load.clip, i * 7) }));
        await waitForSources(pubs[0]!, scenario.publishers);
        const subs = await joinInParallel(scenario.subscribers, (k) => join(scenario.publishers + k, { receiveSlots: scenario.publishers }));
        await Promise.all(subs.map((c, k) => c.subscribe(Meeting!.MediaPlacement!.AudioHostUrl!, c.latestSources(attendees[scenario.publishers + k]!.AttendeeId))));
        break;
      }
      case 'mixed': {
        const pubs = await joinInParallel(scenario.publishers, (i) => join(i, {
          publishVideo: true, videoSender: vp8Sender(load.clip, i * 7), receiveSlots: scenario.publishers - 1, audioSender: load.audioSender(i),
        }));
        await joinInParallel(scenario.audioOnly, (k) => join(scenario.publishers + k, { audioSender: load.audioSender(scenario.publishers + k) }));
        await waitForSources(pubs[0]!, scenario.publishers);
        await Promise.all(pubs.map((c, i) => c.subscribe(Meeting!.MediaPlacement!.AudioHostUrl!, c.latestSources(attendees[i]!.AttendeeId))));
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

/** Waits until INDEX lists every publisher's camera. */
export async function waitForSources(client: HeadlessClient, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((client.latestIndex()?.sources.length ?? 0) < count) {
    if (Date.now() > deadline) throw new Error(`INDEX lists ${client.latestIndex()?.sources.length ?? 0} of ${count} cameras`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
