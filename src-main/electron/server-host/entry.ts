import { deriveBearerToken } from '../../server/auth/bearer-token.js';
import { startChorusServer, type ChorusServer } from '../../server/chorus-server.js';
import { createLogger, type Logger } from '../../server/logger.js';
import { DESKTOP_MAX_EGRESS_MBPS } from '../../server/defaults.js';
import { lanAddresses } from '../../server/runtime/network.js';
import { advertiseChorus, type Advertisement } from './mdns.js';
import { parseHostCommand, type HostCommand, type HostedServerInfo, type HostReply, type HostStartOptions } from './messages.js';

/**
 * The embedded server's process. Electron runs this module in a utilityProcess,
 * so a native crash in the SFU (node-datachannel) or the mixer takes down only
 * this process, and the main process restarts it. It speaks the typed messages
 * of messages.ts over `process.parentPort`. It never imports electron, so the
 * same file runs in plain Node under a test that emulates parentPort.
 */

/** What this module needs of Electron's `process.parentPort` (MessagePortMain-like). */
export interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

export interface ServerHostDeps {
  start: typeof startChorusServer;
  advertise: typeof advertiseChorus;
  lanAddresses: () => string[];
  logger: Logger;
}

const defaultDeps = (): ServerHostDeps => ({ start: startChorusServer, advertise: advertiseChorus, lanAddresses, logger: createLogger() });

interface Running {
  server: ChorusServer;
  info: HostedServerInfo;
  advertisement?: Advertisement;
}

function isAddressInUse(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'EADDRINUSE';
}

export function runServerHost(port: ParentPortLike, deps: ServerHostDeps = defaultDeps()): void {
  const { logger } = deps;
  let running: Running | undefined;
  // Commands run one at a time, in order: a stop that overtakes its start would leak a server.
  let queue: Promise<void> = Promise.resolve();
  const reply = (message: HostReply): void => port.postMessage(message);

  async function start(options: HostStartOptions): Promise<HostedServerInfo> {
    if (running) return running.info;
    const config = { host: options.host, dataDir: options.dataDir, tls: true, maxEgressMbps: DESKTOP_MAX_EGRESS_MBPS, ...(options.rendererDir ? { rendererDir: options.rendererDir } : {}) };
    let server: ChorusServer;
    try {
      server = await deps.start({ ...config, port: options.port }, { logger });
    } catch (error) {
      // The preferred port is taken (another app, a stale server): any free port beats not hosting.
      if (options.port === 0 || !isAddressInUse(error)) throw error;
      logger.warn('host_port_in_use', { port: options.port });
      server = await deps.start({ ...config, port: 0 }, { logger });
    }
    if (!server.tls) {
      await server.close();
      throw new Error('The embedded server started without TLS');
    }
    const info: HostedServerInfo = {
      port: server.port,
      localUrl: `https://127.0.0.1:${server.port}`,
      lanUrls: deps.lanAddresses().map((address) => `https://${address}:${server.port}`),
      fingerprint: server.tls.fingerprint256,
      bearerToken: deriveBearerToken(server.credentials.credentials),
    };
    running = { server, info };
    if (options.advertise) {
      running.advertisement = deps.advertise({
        name: options.serviceName,
        port: server.port,
        fingerprint: info.fingerprint,
        onError: (error) => {
          // Discovery is a convenience: hosting goes on, and the user can still share the invite link.
          logger.warn('mdns_advertise_failed', { error });
          reply({ type: 'advertise-failed', message: error.message });
        },
      });
    }
    return info;
  }

  async function activeMeetings(): Promise<number> {
    return running ? (await running.server.service.listMeetings()).length : 0;
  }

  async function execute(command: HostCommand): Promise<void> {
    switch (command.type) {
      case 'start': {
        try {
          reply({ type: 'started', id: command.id, info: await start(command.options) });
        } catch (error) {
          logger.error('host_start_failed', { error });
          reply({ type: 'failed', id: command.id, code: 'START_FAILED', message: error instanceof Error ? error.message : String(error) });
        }
        return;
      }
      case 'stop': {
        const count = await activeMeetings();
        if (!command.endMeetings && count > 0) {
          reply({ type: 'failed', id: command.id, code: 'MEETINGS_IN_PROGRESS', message: `${count} meeting(s) in progress` });
          return;
        }
        const current = running;
        running = undefined;
        if (current) {
          await current.advertisement?.stop();
          await current.server.close();
        }
        reply({ type: 'stopped', id: command.id });
        return;
      }
      case 'count-meetings':
        reply({ type: 'meeting-count', id: command.id, count: await activeMeetings() });
        return;
      default: {
        const unknownCommand: never = command;
        throw new Error(`unhandled command ${JSON.stringify(unknownCommand)}`);
      }
    }
  }

  port.on('message', (event) => {
    const parsed = parseHostCommand(event.data);
    if (!parsed.ok) {
      logger.warn('host_bad_command', { reason: parsed.error });
      const id = (event.data as { id?: unknown } | null)?.id;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) reply({ type: 'failed', id, code: 'BAD_COMMAND', message: parsed.error });
      return;
    }
    queue = queue.then(() => execute(parsed.value)).catch((error: unknown) => logger.error('host_command_failed', { error }));
  });
  reply({ type: 'ready' });
}

// Electron gives a utilityProcess `process.parentPort`; anything else (a bundler
// importing this file for its types, a unit test) finds none and runs nothing.
const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (parentPort) runServerHost(parentPort);
