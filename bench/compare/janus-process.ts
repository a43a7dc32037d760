import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { janusConfigFiles } from './janus-config.js';

export interface JanusProcess {
  pid: number;
  /** HTTP API base, e.g. http://127.0.0.1:18088/janus */
  apiUrl: string;
  log: string[];
  stop(): Promise<void>;
}

/**
 * Starts /usr/bin/janus with a generated config in a temp dir, optionally pinned with
 * taskset, waits until its HTTP API answers, and stops it by its PID (SIGTERM, then SIGKILL).
 */
/** The first non-internal IPv4 address: where Janus gathers ICE (see JanusConfigOptions.iceAddress). */
export function localIceAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no non-loopback IPv4 address for Janus ICE');
}

export async function startJanus(options: { httpPort: number; rtpBase: number; iceAddress: string; httpAddress?: string; cpus?: string }): Promise<JanusProcess> {
  const configDir = await mkdtemp(join(tmpdir(), 'chorus-bench-janus-'));
  const files = janusConfigFiles({
    configDir, httpPort: options.httpPort, iceAddress: options.iceAddress, httpAddress: options.httpAddress,
    rtpPortRange: [options.rtpBase, options.rtpBase + 1999], audioBridgeRtpRange: [options.rtpBase + 2000, options.rtpBase + 2999],
  });
  for (const [name, text] of Object.entries(files)) await writeFile(join(configDir, name), text);
  const janusArgs = ['-F', configDir, '-C', join(configDir, 'janus.jcfg'), '-o'];
  // taskset execs janus, so the child's PID is Janus's own.
  const [cmd, args] = options.cpus ? ['taskset', ['-c', options.cpus, 'janus', ...janusArgs]] : ['janus', janusArgs];
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (line: string): void => {
    log.push(line);
    if (log.length > 500) log.splice(0, 250);
  };
  createInterface({ input: proc.stdout! }).on('line', keep);
  createInterface({ input: proc.stderr! }).on('line', keep);
  let spawnError: Error | undefined;
  // Without this listener a missing binary would be an uncaught 'error' event.
  proc.once('error', (error) => { spawnError = error; });
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  const apiUrl = `http://${options.httpAddress ?? '127.0.0.1'}:${options.httpPort}/janus`;
  const stop = async (): Promise<void> => {
    if (!spawnError && proc.exitCode === null && proc.signalCode === null) {
      process.kill(proc.pid!, 'SIGTERM');
      const killer = setTimeout(() => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(configDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (spawnError) {
      await rm(configDir, { recursive: true, force: true });
      throw new Error(`cannot start janus (apt-get install janus): ${spawnError.message}`);
    }
    if (proc.exitCode !== null) throw new Error(`janus exited with ${proc.exitCode}: ${log.slice(-20).join('\n')}`);
    try {
      const res = await fetch(apiUrl, { method: 'POST', body: JSON.stringify({ janus: 'info', transaction: 'ready' }) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`janus did not answer on ${apiUrl}: ${log.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: proc.pid!, apiUrl, log, stop };
}
