import type { HostInfo, HostStatus } from '../../shared/desktop-api.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { parseHostReply, type HostCommand, type HostedServerInfo, type HostFailureCode, type HostReply, type HostStartOptions } from './messages.js';

/**
 * Supervises the embedded-server process: starts it, health-checks it, restarts
 * it with exponential back-off when it crashes or stops answering, gives up
 * after too many crashes in a short window, and reports every change as a
 * HostStatus the UI can show as it is. Everything it touches is injected (the
 * process, the health check, the timers), so it runs in tests against a real
 * child process or a scripted one, and in Electron against a utilityProcess.
 */

/** A running server process, as Electron's UtilityProcess or Node's ChildProcess can provide it. */
export interface HostChild {
  postMessage(message: HostCommand): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  /** Ends the process at once (SIGKILL-like); a no-op once it has exited. */
  kill(): void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SupervisorPolicy {
  healthIntervalMs: number;
  /** Consecutive failed health checks after which the process counts as hung and is killed. */
  unhealthyAfter: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** More crashes than this within restartWindowMs: give up and tell the user. */
  maxCrashes: number;
  restartWindowMs: number;
  /** A run this long resets the back-off. */
  stableAfterMs: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

export const DEFAULT_SUPERVISOR_POLICY: SupervisorPolicy = {
  healthIntervalMs: 5_000,
  unhealthyAfter: 3,
  backoffInitialMs: 1_000,
  backoffMaxMs: 30_000,
  maxCrashes: 5,
  restartWindowMs: 120_000,
  stableAfterMs: 60_000,
  startTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
};

export interface SupervisorDeps {
  spawn(): HostChild;
  /** True when `GET /health` answers 200 within its own timeout. Must not throw, but a throw counts as unhealthy. */
  checkHealth(info: HostedServerInfo): Promise<boolean>;
  startOptions: HostStartOptions;
  timers?: Timers;
  now?: () => number;
  policy?: Partial<SupervisorPolicy>;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface SupervisorEvents extends Record<string, unknown> {
  status: HostStatus;
  /** Something the user may want to know that does not change the status (mDNS unavailable). */
  notice: string;
}

/** Error with a code the IPC layer and the UI can act on. */
export class HostError extends Error {
  constructor(
    readonly code: HostFailureCode | 'STOPPED' | 'GAVE_UP',
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/** Back-off before restart number `attempt` (1-based): initial, doubled each time, capped. */
export function restartDelayMs(attempt: number, policy: Pick<SupervisorPolicy, 'backoffInitialMs' | 'backoffMaxMs'>): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** exponent);
}

export function toHostInfo(info: HostedServerInfo): HostInfo {
  return { localUrl: info.localUrl, lanUrls: [...info.lanUrls], fingerprint: info.fingerprint, bearerToken: info.bearerToken };
}

interface Pending {
  resolve(reply: HostReply): void;
  reject(error: Error): void;
}

interface Generation {
  child: HostChild;
  pending: Map<number, Pending>;
  exited: boolean;
  exitWaiters: Array<() => void>;
  info?: HostedServerInfo;
  runningSince?: number;
  healthTimer?: unknown;
  startTimer?: unknown;
  failedChecks: number;
  /** Why we killed it ourselves, so the exit is reported with the real reason. */
  killReason?: string;
  /** Set when we are stopping it on purpose: its exit is not a crash. */
  retiring: boolean;
}

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class ServerSupervisor extends TypedEmitter<SupervisorEvents> {
  private readonly policy: SupervisorPolicy;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly log: NonNullable<SupervisorDeps['log']>;
  private current: HostStatus = { state: 'stopped' };
  private generation: Generation | undefined;
  private nextRequestId = 1;
  private crashTimes: number[] = [];
  private consecutiveCrashes = 0;
  private restartTimer: unknown;
  private startWaiters: Array<{ resolve(info: HostInfo): void; reject(error: Error): void }> = [];
  /** The port the server last bound; a restart reuses it so invite links and reconnecting clients keep working. */
  private port: number;

  constructor(private readonly deps: SupervisorDeps) {
    super((error) => (deps.log ?? (() => undefined))('status_listener_failed', { error }));
    this.policy = { ...DEFAULT_SUPERVISOR_POLICY, ...deps.policy };
    this.timers = deps.timers ?? defaultTimers;
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? (() => undefined);
    this.port = deps.startOptions.port;
  }

  status(): HostStatus {
    return this.current;
  }

  /** Starts hosting, or joins a start in progress; resolves once the server runs, rejects if it cannot be started. */
  start(): Promise<HostInfo> {
    if (this.current.state === 'running') return Promise.resolve(this.current.info);
    const result = new Promise<HostInfo>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
    if (this.current.state === 'stopped' || (this.current.state === 'crashed' && !this.current.restarting)) {
      this.crashTimes = [];
      this.consecutiveCrashes = 0;
      this.launch();
    }
    return result;
  }

  /**
   * Stops hosting. Without endMeetings, refuses (HostError MEETINGS_IN_PROGRESS)
   * while meetings are active, so the caller can ask the user first.
   */
  async stop(options: { endMeetings: boolean }): Promise<void> {
    this.cancelRestart();
    const generation = this.generation;
    if (!generation) {
      this.rejectStartWaiters(new HostError('STOPPED', 'Hosting was stopped'));
      this.setStatus({ state: 'stopped' });
      return;
    }
    if (generation.info) {
      const reply = await this.request(generation, (id) => ({ type: 'stop', id, endMeetings: options.endMeetings }), this.policy.stopTimeoutMs).catch(
        (error: Error) => error,
      );
      if (!(reply instanceof Error) && reply.type === 'failed' && reply.code === 'MEETINGS_IN_PROGRESS') {
        throw new HostError('MEETINGS_IN_PROGRESS', reply.message);
      }
      // Any other outcome (stopped, timed out, process gone) ends in the kill below.
    }
    if (this.generation !== generation) return;
    generation.retiring = true;
    this.rejectStartWaiters(new HostError('STOPPED', 'Hosting was stopped'));
    await this.retire(generation);
    this.setStatus({ state: 'stopped' });
  }

  /** Active meetings on the hosted server; 0 when not hosting or when it does not answer. */
  async activeMeetings(): Promise<number> {
    const generation = this.generation;
    if (!generation?.info) return 0;
    const reply = await this.request(generation, (id) => ({ type: 'count-meetings', id }), 5_000).catch(() => undefined);
    return reply?.type === 'meeting-count' ? reply.count : 0;
  }

  private setStatus(status: HostStatus): void {
    this.current = status;
    this.emit('status', status);
  }

  private launch(): void {
    this.setStatus({ state: 'starting' });
    let child: HostChild;
    try {
      child = this.deps.spawn();
    } catch (error) {
      this.onCrash(undefined, `The meeting server could not be launched: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const generation: Generation = { child, pending: new Map(), exited: false, exitWaiters: [], failedChecks: 0, retiring: false };
    this.generation = generation;
    child.onMessage((message) => this.onMessage(generation, message));
    child.onExit((code) => this.onExit(generation, code));
    generation.startTimer = this.timers.setTimeout(() => {
      generation.killReason = 'did not start in time';
      child.kill();
    }, this.policy.startTimeoutMs);
  }

  private onMessage(generation: Generation, message: unknown): void {
    const parsed = parseHostReply(message);
    if (!parsed.ok) {
      this.log('host_bad_reply', { reason: parsed.error });
      return;
    }
    const reply = parsed.value;
    switch (reply.type) {
      case 'ready':
        if (this.generation === generation && !generation.info) {
          void this.request(generation, (id) => ({ type: 'start', id, options: { ...this.deps.startOptions, port: this.port } }), this.policy.startTimeoutMs)
            .then((started) => this.onStartReply(generation, started))
            .catch(() => undefined); // a timeout or exit is handled by the start timer and onExit
        }
        return;
      case 'advertise-failed':
        this.emit('notice', `Other computers cannot discover this meeting server automatically (${reply.message}); share the invite link instead.`);
        return;
      case 'started':
      case 'stopped':
      case 'meeting-count':
      case 'failed': {
        const pending = generation.pending.get(reply.id);
        if (!pending) return this.log('host_unexpected_reply', { type: reply.type, id: reply.id });
        generation.pending.delete(reply.id);
        pending.resolve(reply);
        return;
      }
      default: {
        const unknownReply: never = reply;
        this.log('host_unknown_reply', { reply: unknownReply });
      }
    }
  }

  private onStartReply(generation: Generation, reply: HostReply): void {
    if (this.generation !== generation || generation.retiring) return;
    this.timers.clearTimeout(generation.startTimer);
    if (reply.type !== 'started') {
      const message = reply.type === 'failed' ? reply.message : `unexpected reply ${reply.type}`;
      // A server that cannot start (port, certificate, data directory) will not start on retry either.
      generation.retiring = true;
      generation.child.kill();
      this.generation = undefined;
      const error = new HostError('START_FAILED', `Hosting could not start: ${message}`);
      this.rejectStartWaiters(error);
      this.setStatus({ state: 'crashed', message: error.message, restarting: false });
      return;
    }
    generation.info = reply.info;
    generation.runningSince = this.now();
    this.port = reply.info.port;
    const info = toHostInfo(reply.info);
    const waiters = this.startWaiters;
    this.startWaiters = [];
    this.setStatus({ state: 'running', info });
    for (const waiter of waiters) waiter.resolve(info);
    this.scheduleHealthCheck(generation);
  }

  private scheduleHealthCheck(generation: Generation): void {
    generation.healthTimer = this.timers.setTimeout(() => {
      if (this.generation !== generation || generation.exited || !generation.info) return;
      void this.deps
        .checkHealth(generation.info)
        .catch(() => false)
        .then((healthy) => {
          if (this.generation !== generation || generation.exited || generation.retiring) return;
          generation.failedChecks = healthy ? 0 : generation.failedChecks + 1;
          if (generation.failedChecks >= this.policy.unhealthyAfter) {
            this.log('host_unresponsive', { failedChecks: generation.failedChecks });
            generation.killReason = 'stopped answering its health check';
            generation.child.kill();
            return;
          }
          this.scheduleHealthCheck(generation);
        });
    }, this.policy.healthIntervalMs);
  }

  private onExit(generation: Generation, code: number | null): void {
    generation.exited = true;
    this.timers.clearTimeout(generation.startTimer);
    this.timers.clearTimeout(generation.healthTimer);
    for (const pending of generation.pending.values()) pending.reject(new HostError('NOT_RUNNING', 'The meeting server process exited'));
    generation.pending.clear();
    for (const waiter of generation.exitWaiters.splice(0)) waiter();
    if (generation.retiring || this.generation !== generation) return;
    this.generation = undefined;
    const reason = generation.killReason ?? (code === null ? 'was killed' : `exited with code ${code}`);
    this.onCrash(generation, `The meeting server ${reason}`);
  }

  private onCrash(generation: Generation | undefined, message: string): void {
    const now = this.now();
    if (generation?.runningSince !== undefined && now - generation.runningSince >= this.policy.stableAfterMs) this.consecutiveCrashes = 0;
    this.consecutiveCrashes += 1;
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.policy.restartWindowMs), now];
    this.log('host_crashed', { message, crashes: this.crashTimes.length });
    if (this.crashTimes.length > this.policy.maxCrashes) {
      const finalMessage = `${message}. It crashed ${this.crashTimes.length} times in ${Math.round(this.policy.restartWindowMs / 1000)} s, so hosting has stopped; meetings on it have ended.`;
      this.rejectStartWaiters(new HostError('GAVE_UP', finalMessage));
      this.setStatus({ state: 'crashed', message: finalMessage, restarting: false });
      return;
    }
    const delay = restartDelayMs(this.consecutiveCrashes, this.policy);
    this.setStatus({ state: 'crashed', message: `${message}; restarting in ${Math.max(1, Math.round(delay / 1000))} s.`, restarting: true });
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = undefined;
      this.launch();
    }, delay);
  }

  private request(generation: Generation, build: (id: number) => HostCommand, timeoutMs: number): Promise<HostReply> {
    if (generation.exited) return Promise.reject(new HostError('NOT_RUNNING', 'The meeting server is not running'));
    const id = this.nextRequestId++;
    return new Promise<HostReply>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        generation.pending.delete(id);
        reject(new HostError('NOT_RUNNING', 'The meeting server did not answer'));
      }, timeoutMs);
      generation.pending.set(id, {
        resolve: (reply) => {
          this.timers.clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          this.timers.clearTimeout(timer);
          reject(error);
        },
      });
      generation.child.postMessage(build(id));
    });
  }

  /** Kills a generation on purpose and waits for its exit. */
  private retire(generation: Generation): Promise<void> {
    generation.retiring = true;
    if (this.generation === generation) this.generation = undefined;
    if (generation.exited) return Promise.resolve();
    const exited = new Promise<void>((resolve) => generation.exitWaiters.push(resolve));
    generation.child.kill();
    return exited;
  }

  private cancelRestart(): void {
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private rejectStartWaiters(error: Error): void {
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
