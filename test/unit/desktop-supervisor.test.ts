import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { HostCommand, HostedServerInfo, HostStartOptions } from '../../src-main/electron/server-host/messages.js';
import { parseHostCommand, parseHostReply } from '../../src-main/electron/server-host/messages.js';
import { HostError, restartDelayMs, ServerSupervisor, type HostChild, type SupervisorPolicy } from '../../src-main/electron/server-host/supervisor.js';
import type { HostStatus } from '../../src-main/shared/desktop-api.js';
import { eventually } from '../helpers/eventually.js';

const INFO: HostedServerInfo = { port: 8443, localUrl: 'https://127.0.0.1:8443', lanUrls: ['https://10.0.0.5:8443'], fingerprint: 'AA:BB', bearerToken: 'chorus1.t' };
const OPTIONS: HostStartOptions = { dataDir: '/tmp/x', host: '0.0.0.0', port: 8443, serviceName: 'Test', advertise: false };

/** Deterministic clock and timers: time moves only when the test says so. */
class ManualTime {
  now = 0;
  private queue: Array<{ at: number; cb: () => void; id: number }> = [];
  private nextId = 1;
  timers = {
    setTimeout: (cb: () => void, ms: number) => {
      const id = this.nextId++;
      this.queue.push({ at: this.now + ms, cb, id });
      return id;
    },
    clearTimeout: (id: unknown) => {
      this.queue = this.queue.filter((t) => t.id !== id);
    },
  };
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const next = this.queue[0];
      if (!next || next.at > target) break;
      this.queue.shift();
      this.now = next.at;
      next.cb();
      await flush();
    }
    this.now = target;
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** A scripted stand-in for the server process, for the timing rules; the real entry is covered in test/integration/desktop-server-host.test.ts. */
class ScriptedChild implements HostChild {
  commands: HostCommand[] = [];
  killed = false;
  private messageListeners: Array<(m: unknown) => void> = [];
  private exitListeners: Array<(code: number | null) => void> = [];
  constructor(private readonly behaviour: { startReply?: 'started' | 'failed' | 'none'; ready?: boolean } = {}) {
    if (behaviour.ready !== false) queueMicrotask(() => this.emit({ type: 'ready' }));
  }
  postMessage(message: HostCommand): void {
    this.commands.push(message);
    const reply = this.behaviour.startReply ?? 'started';
    if (message.type === 'start' && reply === 'started') queueMicrotask(() => this.emit({ type: 'started', id: message.id, info: { ...INFO, port: message.options.port || 40000 } }));
    if (message.type === 'start' && reply === 'failed') queueMicrotask(() => this.emit({ type: 'failed', id: message.id, code: 'START_FAILED', message: 'EACCES' }));
    if (message.type === 'stop') queueMicrotask(() => this.emit({ type: 'stopped', id: message.id }));
    if (message.type === 'count-meetings') queueMicrotask(() => this.emit({ type: 'meeting-count', id: message.id, count: 2 }));
  }
  onMessage(listener: (m: unknown) => void): void {
    this.messageListeners.push(listener);
  }
  onExit(listener: (code: number | null) => void): void {
    this.exitListeners.push(listener);
  }
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    queueMicrotask(() => this.exit(null));
  }
  emit(message: unknown): void {
    for (const l of this.messageListeners) l(message);
  }
  exit(code: number | null): void {
    for (const l of this.exitListeners.splice(0)) l(code);
  }
}

function setup(options: { policy?: Partial<SupervisorPolicy>; behaviour?: ConstructorParameters<typeof ScriptedChild>[0]; healthy?: () => boolean } = {}) {
  const time = new ManualTime();
  const children: ScriptedChild[] = [];
  const statuses: HostStatus[] = [];
  const supervisor = new ServerSupervisor({
    spawn: () => {
      const child = new ScriptedChild(options.behaviour);
      children.push(child);
      return child;
    },
    checkHealth: async () => (options.healthy ?? (() => true))(),
    startOptions: OPTIONS,
    timers: time.timers,
    now: () => time.now,
    policy: { healthIntervalMs: 1_000, unhealthyAfter: 3, backoffInitialMs: 1_000, backoffMaxMs: 8_000, maxCrashes: 5, restartWindowMs: 120_000, stableAfterMs: 60_000, ...options.policy },
  });
  supervisor.on('status', (s) => statuses.push(s));
  return { time, children, statuses, supervisor };
}

describe('server supervisor', () => {
  it('doubles the back-off up to the cap', () => {
    const policy = { backoffInitialMs: 1_000, backoffMaxMs: 8_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelayMs(n, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('restarts a crashed server after a growing delay, then gives up with a clear message', async () => {
    const { time, children, statuses, supervisor } = setup();
    const info = await supervisor.start();
    expect(info).toEqual({ localUrl: INFO.localUrl, lanUrls: INFO.lanUrls, fingerprint: INFO.fingerprint, bearerToken: INFO.bearerToken });
    expect(children[0]!.commands[0]).toMatchObject({ type: 'start', options: OPTIONS });

    const delays: number[] = [];
    for (let crash = 1; crash <= 5; crash++) {
      children[children.length - 1]!.exit(1);
      await flush();
      expect(supervisor.status()).toMatchObject({ state: 'crashed', restarting: true, message: expect.stringMatching(/exited with code 1; restarting in \d+ s/) });
      const spawnedBefore = children.length;
      let waited = 0;
      while (children.length === spawnedBefore) {
        await time.advance(500);
        waited += 500;
      }
      delays.push(waited);
      await flush();
      expect(supervisor.status().state).toBe('running');
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);

    children[children.length - 1]!.exit(1);
    await flush();
    expect(supervisor.status()).toMatchObject({ state: 'crashed', restarting: false, message: expect.stringMatching(/crashed 6 times in 120 s, so hosting has stopped/) });
    await time.advance(60_000);
    expect(children).toHaveLength(6);
    expect(statuses.filter((s) => s.state === 'starting')).toHaveLength(6);

    // The user can try again; the history starts afresh.
    const again = supervisor.start();
    await flush();
    await expect(again).resolves.toMatchObject({ fingerprint: 'AA:BB' });
  });

  it('resets the back-off after a stable run and reuses the port the server bound', async () => {
    const { time, children, supervisor } = setup();
    await supervisor.start();
    await time.advance(61_000);
    children[0]!.exit(1);
    await flush();
    expect(supervisor.status()).toMatchObject({ message: expect.stringContaining('restarting in 1 s') });
    await time.advance(1_000);
    expect(children).toHaveLength(2);
    await flush();
    expect(children[1]!.commands[0]).toMatchObject({ type: 'start', options: { port: 8443 } });
  });

  it('kills a server that fails its health check three times in a row, and only then', async () => {
    let healthy = true;
    const { time, children, supervisor } = setup({ healthy: () => healthy });
    await supervisor.start();
    healthy = false;
    await time.advance(2_000);
    healthy = true; // a hiccup: the count starts over
    await time.advance(1_000);
    healthy = false;
    await time.advance(2_000);
    expect(children[0]!.killed).toBe(false);
    await time.advance(1_000);
    expect(children[0]!.killed).toBe(true);
    await flush();
    expect(supervisor.status()).toMatchObject({ state: 'crashed', restarting: true, message: expect.stringContaining('stopped answering its health check') });
  });

  it('reports a start failure without retrying it, and a start timeout as a crash', async () => {
    const failing = setup({ behaviour: { startReply: 'failed' } });
    const error = await failing.supervisor.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostError);
    expect(error).toMatchObject({ code: 'START_FAILED', message: 'Hosting could not start: EACCES' });
    expect(failing.supervisor.status()).toEqual({ state: 'crashed', message: 'Hosting could not start: EACCES', restarting: false });
    expect(failing.children[0]!.killed).toBe(true);

    const silent = setup({ behaviour: { ready: false }, policy: { startTimeoutMs: 5_000 } });
    const pending = silent.supervisor.start();
    await silent.time.advance(5_000);
    expect(silent.children[0]!.killed).toBe(true);
    await flush();
    expect(silent.supervisor.status()).toMatchObject({ state: 'crashed', restarting: true, message: expect.stringContaining('did not start in time') });
    await silent.supervisor.stop({ endMeetings: true });
    await expect(pending).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('stop cancels a pending restart; activeMeetings asks the process', async () => {
    const { time, children, supervisor } = setup();
    await supervisor.start();
    expect(await supervisor.activeMeetings()).toBe(2);
    children[0]!.exit(1);
    await flush();
    await supervisor.stop({ endMeetings: false });
    expect(supervisor.status()).toEqual({ state: 'stopped' });
    await time.advance(30_000);
    expect(children).toHaveLength(1);
    expect(await supervisor.activeMeetings()).toBe(0);
  });

  it('ignores malformed replies from the process', async () => {
    const { children, supervisor } = setup();
    await supervisor.start();
    children[0]!.emit({ type: 'started', id: 'x' });
    children[0]!.emit('garbage');
    children[0]!.emit({ type: 'stopped', id: 999 });
    expect(supervisor.status().state).toBe('running');
  });

  it('restarts a real child process that keeps exiting, then gives up', async () => {
    // A real process speaking the protocol that exits with code 3 shortly after it started.
    const script = `
      process.send({ type: 'ready' });
      process.on('message', (m) => {
        if (m.type === 'start') {
          process.send({ type: 'started', id: m.id, info: { port: 1, localUrl: 'https://127.0.0.1:1', lanUrls: [], fingerprint: 'AA', bearerToken: 't' } });
          setTimeout(() => process.exit(3), 50);
        }
      });`;
    const pids: number[] = [];
    const statuses: HostStatus[] = [];
    const supervisor = new ServerSupervisor({
      spawn: () => {
        const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
        pids.push(child.pid!);
        return {
          postMessage: (m) => child.connected && child.send(m),
          onMessage: (l) => child.on('message', l),
          onExit: (l) => child.on('exit', (code) => l(code)),
          kill: () => child.kill('SIGKILL'),
        };
      },
      checkHealth: async () => true,
      startOptions: OPTIONS,
      policy: { backoffInitialMs: 20, backoffMaxMs: 40, maxCrashes: 2, healthIntervalMs: 60_000 },
    });
    supervisor.on('status', (s) => statuses.push(s));
    await supervisor.start();
    await eventually(() => expect(supervisor.status()).toMatchObject({ state: 'crashed', restarting: false }), 15_000, 50);
    expect((supervisor.status() as { message: string }).message).toMatch(/exited with code 3\. It crashed 3 times/);
    expect(new Set(pids).size).toBe(3);
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'running', 'crashed', 'starting', 'running', 'crashed', 'starting', 'running', 'crashed']);
  });
});

describe('host process messages', () => {
  it('accepts well-formed commands and replies and rejects everything else with a reason', () => {
    expect(parseHostCommand({ type: 'start', id: 1, options: OPTIONS })).toEqual({ ok: true, value: { type: 'start', id: 1, options: OPTIONS } });
    expect(parseHostCommand({ type: 'start', id: 1, options: { ...OPTIONS, rendererDir: '/app/dist/renderer' } })).toMatchObject({ ok: true });
    expect(parseHostCommand({ type: 'stop', id: 2, endMeetings: false })).toEqual({ ok: true, value: { type: 'stop', id: 2, endMeetings: false } });
    expect(parseHostCommand({ type: 'start', id: 1, options: { ...OPTIONS, port: 70000 } })).toMatchObject({ ok: false, error: 'start: invalid options' });
    expect(parseHostCommand({ type: 'stop', id: 2 })).toMatchObject({ ok: false });
    expect(parseHostCommand({ type: 'reboot', id: 3 })).toMatchObject({ ok: false, error: "unknown command 'reboot'" });
    expect(parseHostCommand({ type: 'count-meetings', id: -1 })).toMatchObject({ ok: false });
    expect(parseHostCommand(null)).toMatchObject({ ok: false });
    expect(parseHostReply({ type: 'started', id: 1, info: INFO })).toEqual({ ok: true, value: { type: 'started', id: 1, info: INFO } });
    expect(parseHostReply({ type: 'started', id: 1, info: { ...INFO, lanUrls: 'x' } })).toMatchObject({ ok: false });
    expect(parseHostReply({ type: 'failed', id: 1, code: 'WHATEVER', message: 'x' })).toMatchObject({ ok: false });
    expect(parseHostReply({ type: 'meeting-count', id: 1, count: 1.5 })).toMatchObject({ ok: false });
    expect(parseHostReply({ type: 'advertise-failed', message: 'no multicast' })).toMatchObject({ ok: true });
  });
});
