import type { CaptureChoice, IpcInvokeChannel, IpcInvokeChannels } from '../shared/desktop-api.js';
import { IPC_INVOKE_CHANNELS } from '../shared/desktop-api.js';
import { normaliseFingerprint } from '../shared/invite-link.js';
import { isAppUrl } from './security-policy.js';

/**
 * Checks for every IPC call before its handler runs: who sent it (our own
 * top-level page, nothing else) and what it carries (exactly the arguments the
 * channel map promises). A compromised or confused renderer gets an error, never
 * a handler running on malformed input.
 */

export type ArgsCheck<K extends IpcInvokeChannel> = { ok: true; args: IpcInvokeChannels[K]['args'] } | { ok: false; error: string };

export function isInvokeChannel(channel: string): channel is IpcInvokeChannel {
  return (IPC_INVOKE_CHANNELS as readonly string[]).includes(channel);
}

export interface SenderInfo {
  /** URL of the frame that sent the message; undefined when it is gone. */
  frameUrl: string | undefined;
  /** Whether that frame is the top-level frame of one of our windows. */
  isMainFrameOfOurWindow: boolean;
}

/** Only the top frame of our own window, showing our app:// origin, may call the main process. */
export function isTrustedSender(sender: SenderInfo): boolean {
  return sender.isMainFrameOfOurWindow && sender.frameUrl !== undefined && isAppUrl(sender.frameUrl);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SOURCE_ID = /^(screen|window):[0-9a-zA-Z:_-]{1,128}$/;

function exactKeys(value: Record<string, unknown>, keys: string[]): boolean {
  const present = Object.keys(value);
  return present.length === keys.length && keys.every((k) => present.includes(k));
}

function parseCaptureChoice(value: unknown): CaptureChoice | null | undefined {
  if (value === null) return null;
  if (!isObject(value) || !exactKeys(value, ['sourceId', 'audio'])) return undefined;
  if (typeof value.sourceId !== 'string' || !SOURCE_ID.test(value.sourceId) || typeof value.audio !== 'boolean') return undefined;
  return { sourceId: value.sourceId, audio: value.audio };
}

function httpsOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Validates (and copies into fresh, exact shapes) the arguments of one invoke. */
export function validateInvokeArgs<K extends IpcInvokeChannel>(channel: K, args: readonly unknown[]): ArgsCheck<K> {
  const result = check(channel, args);
  return result as ArgsCheck<K>;
}

function check(channel: IpcInvokeChannel, args: readonly unknown[]): ArgsCheck<IpcInvokeChannel> {
  const arity = (n: number): string | undefined => (args.length === n ? undefined : `${channel} takes ${n} argument(s), got ${args.length}`);
  switch (channel) {
    case 'app:version':
    case 'app:take-pending-deep-link':
    case 'host:start':
    case 'host:status':
    case 'discovery:list': {
      const wrong = arity(0);
      return wrong ? { ok: false, error: wrong } : { ok: true, args: [] };
    }
    case 'host:stop': {
      const wrong = arity(1);
      if (wrong) return { ok: false, error: wrong };
      const [opts] = args;
      if (!isObject(opts) || !exactKeys(opts, ['endMeetings']) || typeof opts.endMeetings !== 'boolean') {
        return { ok: false, error: 'host:stop expects { endMeetings: boolean }' };
      }
      return { ok: true, args: [{ endMeetings: opts.endMeetings }] };
    }
    case 'capture:choose': {
      const wrong = arity(2);
      if (wrong) return { ok: false, error: wrong };
      const [requestId, rawChoice] = args;
      if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return { ok: false, error: 'capture:choose: invalid requestId' };
      const choice = parseCaptureChoice(rawChoice);
      if (choice === undefined) return { ok: false, error: 'capture:choose expects { sourceId, audio } or null' };
      return { ok: true, args: [requestId, choice] };
    }
    case 'trust:pin-server': {
      const wrong = arity(2);
      if (wrong) return { ok: false, error: wrong };
      const serverUrl = httpsOrigin(args[0]);
      if (!serverUrl) return { ok: false, error: 'trust:pin-server: serverUrl must be an https:// URL' };
      const fingerprint = typeof args[1] === 'string' && args[1].length <= 200 ? normaliseFingerprint(args[1]) : undefined;
      if (!fingerprint) return { ok: false, error: 'trust:pin-server: fingerprint must be a SHA-256 fingerprint' };
      return { ok: true, args: [serverUrl, fingerprint] };
    }
    default: {
      const unknownChannel: never = channel;
      return { ok: false, error: `unknown channel ${String(unknownChannel)}` };
    }
  }
}
