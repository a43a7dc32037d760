/**
 * The messages between the main process and the embedded-server utility process.
 * Both directions are tagged unions, validated on receipt: a message port is a
 * process boundary, and a malformed message must be reported, never trusted.
 * This module is plain TypeScript (no Electron, no Node) so both sides and the
 * tests share it.
 */

export interface HostStartOptions {
  /** Where the server keeps its credentials and its self-signed certificate (stable fingerprint). */
  dataDir: string;
  /** Interface to bind; the desktop app hosts on every LAN interface (0.0.0.0). */
  host: string;
  /** TCP port (and UDP media port); 0 picks a free one. */
  port: number;
  /** Name advertised over mDNS (the computer's name). */
  serviceName: string;
  /** Whether to advertise over mDNS; tests that only need the server turn it off. */
  advertise: boolean;
  /**
   * The renderer build the server serves to browsers. Given explicitly because the
   * server's default is relative to its source file, which a bundle moves.
   */
  rendererDir?: string;
}

export interface HostedServerInfo {
  port: number;
  localUrl: string;
  lanUrls: string[];
  fingerprint: string;
  bearerToken: string;
}

/** Main process -> utility process. `id` pairs a request with its reply. */
export type HostCommand =
  | { type: 'start'; id: number; options: HostStartOptions }
  | { type: 'stop'; id: number; endMeetings: boolean }
  | { type: 'count-meetings'; id: number };

/** Utility process -> main process. */
export type HostReply =
  | { type: 'ready' }
  | { type: 'started'; id: number; info: HostedServerInfo }
  | { type: 'stopped'; id: number }
  | { type: 'meeting-count'; id: number; count: number }
  | { type: 'failed'; id: number; code: HostFailureCode; message: string }
  | { type: 'advertise-failed'; message: string };

export type HostFailureCode = 'START_FAILED' | 'NOT_RUNNING' | 'MEETINGS_IN_PROGRESS' | 'BAD_COMMAND' | 'ALREADY_RUNNING';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535;
}

function isShortString(value: unknown, max = 4096): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= 64 && value.every((v) => isShortString(v, 512));
}

const FAILURE_CODES: ReadonlySet<string> = new Set<HostFailureCode>(['START_FAILED', 'NOT_RUNNING', 'MEETINGS_IN_PROGRESS', 'BAD_COMMAND', 'ALREADY_RUNNING']);

function parseStartOptions(value: unknown): HostStartOptions | undefined {
  if (!isObject(value)) return undefined;
  const { dataDir, host, port, serviceName, advertise, rendererDir } = value;
  if (!isShortString(dataDir) || !isShortString(host, 255) || !isPort(port) || !isShortString(serviceName, 63) || typeof advertise !== 'boolean') return undefined;
  if (rendererDir !== undefined && !isShortString(rendererDir)) return undefined;
  return { dataDir, host, port, serviceName, advertise, ...(rendererDir !== undefined ? { rendererDir } : {}) };
}

export function parseHostCommand(message: unknown): Parsed<HostCommand> {
  if (!isObject(message) || typeof message.type !== 'string') return { ok: false, error: 'not a tagged message' };
  const type = message.type as HostCommand['type'];
  if (!isRequestId(message.id)) return { ok: false, error: `${type}: missing request id` };
  const id = message.id;
  switch (type) {
    case 'start': {
      const options = parseStartOptions(message.options);
      return options ? { ok: true, value: { type, id, options } } : { ok: false, error: 'start: invalid options' };
    }
    case 'stop':
      return typeof message.endMeetings === 'boolean'
        ? { ok: true, value: { type, id, endMeetings: message.endMeetings } }
        : { ok: false, error: 'stop: endMeetings must be a boolean' };
    case 'count-meetings':
      return { ok: true, value: { type, id } };
    default: {
      const unknownType: never = type;
      return { ok: false, error: `unknown command '${String(unknownType)}'` };
    }
  }
}

function parseServerInfo(value: unknown): HostedServerInfo | undefined {
  if (!isObject(value)) return undefined;
  const { port, localUrl, lanUrls, fingerprint, bearerToken } = value;
  if (!isPort(port) || !isShortString(localUrl, 512) || !isStringArray(lanUrls) || !isShortString(fingerprint, 128) || !isShortString(bearerToken, 256)) return undefined;
  return { port, localUrl, lanUrls: [...lanUrls], fingerprint, bearerToken };
}

export function parseHostReply(message: unknown): Parsed<HostReply> {
  if (!isObject(message) || typeof message.type !== 'string') return { ok: false, error: 'not a tagged message' };
  const type = message.type as HostReply['type'];
  switch (type) {
    case 'ready':
      return { ok: true, value: { type } };
    case 'advertise-failed':
      return isShortString(message.message) ? { ok: true, value: { type, message: message.message } } : { ok: false, error: 'advertise-failed: no message' };
    case 'started':
    case 'stopped':
    case 'meeting-count':
    case 'failed': {
      if (!isRequestId(message.id)) return { ok: false, error: `${type}: missing request id` };
      const id = message.id;
      if (type === 'stopped') return { ok: true, value: { type, id } };
      if (type === 'started') {
        const info = parseServerInfo(message.info);
        return info ? { ok: true, value: { type, id, info } } : { ok: false, error: 'started: invalid server info' };
      }
      if (type === 'meeting-count') {
        const count = message.count;
        return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? { ok: true, value: { type, id, count } } : { ok: false, error: 'meeting-count: invalid count' };
      }
      const { code, message: text } = message;
      return typeof code === 'string' && FAILURE_CODES.has(code) && isShortString(text)
        ? { ok: true, value: { type, id, code: code as HostFailureCode, message: text } }
        : { ok: false, error: 'failed: invalid code or message' };
    }
    default: {
      const unknownType: never = type;
      return { ok: false, error: `unknown reply '${String(unknownType)}'` };
    }
  }
}
