import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const LISTENING = /Chorus server listening on (\S+)/;

/**
 * Starts the headless server as its own process. `command` defaults to the CLI
 * entry run through tsx, exactly what `npm run server` runs.
 */
export function spawnServer(args: string[], options: { command?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const [cmd, ...base] = options.command ?? [process.execPath, '--import', 'tsx', 'src-main/server/cli.ts'];
  const proc = spawn(cmd!, [...base, ...args], {
    cwd: process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(proc, 'SIGKILL');
      reject(new Error(`server did not start: ${stdout.join('\n')}\n${stderr.join('\n')}`));
    }, options.timeoutMs ?? 20_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      stdout.push(line);
      const match = LISTENING.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({
          proc,
          url: match[1]!,
          stdout,
          stderr,
          exited,
          stop: (signal = 'SIGTERM') => {
            proc.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stdout.join('\n')}\n${stderr.join('\n')}`));
    });
  });
}

export function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid) process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

/** Waits for a line on stdout matching `pattern` (already printed or yet to come). */
export async function waitForLine(server: ServerProcess, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = server.stdout.find((line) => pattern.test(line));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern}: ${server.stdout.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
