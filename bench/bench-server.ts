import { ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execFileSync } from 'node:child_process';
import { Agent } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinCertificate, type PinnedTls } from '../src-main/client/pinned-tls.js';
import { spawnServer, type ServerProcess } from '../test/helpers/server-process.js';

const CREDENTIALS = { accessKeyId: 'CHORUSBENCH', secretAccessKey: 'bench-secret' };

export interface BenchServer {
  /** The server process itself (what /proc is read for). */
  pid: number;
  url: string;
  /** On a non-loopback host the server serves TLS with its own certificate: its SHA-256 fingerprint, and that certificate pinned. */
  tls?: { fingerprint256: string; pinned: PinnedTls };
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
 * optionally pinned to `cpus` with taskset (which execs node, so the PID is the server's),
 * or on `host` (HTTP and ICE) for benchmarks whose clients are in network namespaces.
 */
export async function startBenchServer(options: { logLevel: 'debug' | 'warn'; cpus?: string; host?: string }): Promise<BenchServer> {
  buildServerOnce();
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-'));
  // The server as `npm run server` runs it: the bundle, not the TypeScript loader (which alone costs ~95 MiB).
  const node = [process.execPath, 'dist/server/cli.js'];
  let server: ServerProcess;
  try {
    server = await spawnServer(['--host', options.host ?? '127.0.0.1', '--port', '0', '--ice-host', options.host ?? '127.0.0.1', '--data-dir', dataDir, '--log-level', options.logLevel], {
      command: options.cpus ? ['taskset', '-c', options.cpus, ...node] : node,
      env: { CHORUS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const fingerprint256 = server.stdout.map((l) => /TLS certificate SHA-256 fingerprint: (\S+)/.exec(l)?.[1]).find(Boolean);
  const tls = fingerprint256 ? { fingerprint256, pinned: await pinCertificate(server.url, fingerprint256) } : undefined;
  return {
    pid: server.proc.pid!,
    url: server.url,
    tls,
    stderr: server.stderr,
    api: () => new ChimeSDKMeetingsClient({
      region: 'us-east-1', endpoint: server.url, credentials: CREDENTIALS,
      ...(tls ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: tls.pinned.ca, checkServerIdentity: tls.pinned.checkServerIdentity }) }) } : {}),
    }),
    stop: async () => {
      await server.stop('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
