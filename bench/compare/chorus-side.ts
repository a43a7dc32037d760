import { BatchCreateAttendeeCommand, ChimeSDKMeetingsClient, CreateMeetingCommand, type Attendee } from '@aws-sdk/client-chime-sdk-meetings';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadlessClient, type HeadlessOptions } from '../../test/helpers/headless-client.js';
import { spawnServer } from '../../test/helpers/server-process.js';
import { vp8Sender } from '../load/senders.js';
import type { JoinedLoad, LoadContext, RunningServer, ServerSide } from './driver.js';
import { joinInParallel } from './parallel.js';
import { attendeesOf, type Scenario } from './scenarios.js';

const CREDENTIALS = { accessKeyId: 'CHORUSBENCH', secretAccessKey: 'bench-secret' };
const AUDIO_LEVEL_EXT = 1;

interface ChorusServer extends RunningServer { url: string }

/** Chorus: the real server process, joined by headless Chime-signaling clients. */
export function chorusSide(cpus: string | undefined): ServerSide {
  return {
    name: 'chorus',
    async start(): Promise<ChorusServer> {
      const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-'));
      const node = [process.execPath, '--import', 'tsx', 'src-main/server/cli.ts'];
      const server = await spawnServer(['--port', '0', '--ice-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'], {
        // taskset execs node, so the PID is the server's own.
        command: cpus ? ['taskset', '-c', cpus, ...node] : node,
        env: { CHORUS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
      });
      return {
        pid: server.proc.pid!, url: server.url,
        stop: async () => {
          await server.stop('SIGTERM');
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
    async join(server, scenario, load) {
      return joinChorus((server as ChorusServer).url, scenario, load);
    },
  };
}

async function joinChorus(url: string, scenario: Scenario, load: LoadContext): Promise<JoinedLoad> {
  const api = new ChimeSDKMeetingsClient({ region: 'us-east-1', endpoint: url, credentials: CREDENTIALS });
  const clients: HeadlessClient[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((c) => c.close()));
    api.destroy();
  };
  try {
    const { Meeting } = await api.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: `bench-${scenario.id}` }));
    const total = attendeesOf(scenario);
    const attendees: Attendee[] = [];
    for (let i = 0; i < total; i += 100) {
      const { Attendees } = await api.send(new BatchCreateAttendeeCommand({
        MeetingId: Meeting!.MeetingId,
        Attendees: Array.from({ length: Math.min(100, total - i) }, (_, j) => ({ ExternalUserId: `bench-${i + j}` })),
      }));
      attendees.push(...Attendees!);
    }
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
        await joinInParallel(total, (i) => join(i, { audioSender: load.audioSender(i) }));
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
async function waitForSources(client: HeadlessClient, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((client.latestIndex()?.sources.length ?? 0) < count) {
    if (Date.now() > deadline) throw new Error(`INDEX lists ${client.latestIndex()?.sources.length ?? 0} of ${count} cameras`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
