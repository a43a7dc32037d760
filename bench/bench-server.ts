import { ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from '../test/helpers/server-process.js';

const CREDENTIALS = { accessKeyId: 'CHORUSBENCH', secretAccessKey: 'bench-secret' };

export interface BenchServer {
  /** The server process itself (what /proc is read for). */
  pid: number;
  url: string;
  /** Its stderr lines: the structured log. */
  stderr: string[];
  /** A Chime API client with the server's credentials; destroy it when done. */
  api(): ChimeSDKMeetingsClient;
  stop(): Promise<void>;
}

let built = false;
/** Builds dist/server/cli.js from the current sources, once per benchmark process. */
function buildServerOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build:server'], { stdio: 'inherit' });
  built = true;
}

/**
 * The Chorus server as its own process on loopback, as every benchmark runs it,
 * optionally pinned to `cpus` with taskset (which execs node, so the PID is the server's).
 */
export async function startBenchServer(options: { logLevel: 'debug' | 'warn'; cpus?: string }): Promise<BenchServer> {
  buildServerOnce();
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-'));
  // The server as `npm run server` runs it: the bundle, not the TypeScript loader (which alone costs ~95 MiB).
  const node = [process.execPath, 'dist/server/cli.js'];
  let server: ServerProcess;
  try {
    server = await spawnServer(['--port', '0', '--ice-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', options.logLevel], {
      command: options.cpus ? ['taskset', '-c', options.cpus, ...node] : node,
      env: { CHORUS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    pid: server.proc.pid!,
    url: server.url,
    stderr: server.stderr,
    api: () => new ChimeSDKMeetingsClient({ region: 'us-east-1', endpoint: server.url, credentials: CREDENTIALS }),
    stop: async () => {
      await server.stop('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
