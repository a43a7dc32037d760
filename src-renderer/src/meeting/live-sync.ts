import { LIVE_HOLD_MS, type ConnectionReport, type LiveState } from '../../../src-main/shared/app-api.js';
import { AppApiError, type AppApi, type AttendeeAuth } from '../api/app-api';
import { REFUSED_WITHIN_MS } from '../lib/connection-quality';

/**
 * Keeps the meeting's moderation state fresh with one long-polled request at a
 * time (the server answers at once on a change, else after LIVE_HOLD_MS). Each
 * request is also this app checking in, with its own connection verdict, and each
 * answer is proof the server is there: how the last one failed (refused at once,
 * or no answer) is what "cannot reach the server" is based on.
 */

export interface LiveSyncOptions {
  api: AppApi;
  meetingCode: string;
  auth: AttendeeAuth;
  /** This device's connection, reported with every request. */
  connection(): ConnectionReport;
  onState(state: LiveState): void;
  /** The server no longer knows this attendee (removed) or the meeting (ended, or the server restarted). */
  onGone(kind: 'attendee' | 'meeting'): void;
  now?: () => number;
}

export interface LiveSync {
  readonly lastContactAt: number;
  readonly lastFailure: { kind: 'refused' | 'timeout' } | undefined;
  /** Asks again now instead of waiting for the backoff (the user pressed Try again). */
  kick(): void;
  stop(): void;
}

const EXTRA_TIMEOUT_MS = 4_000;
const RETRY_MS = 1_000;

export function startLiveSync(options: LiveSyncOptions): LiveSync {
  const now = options.now ?? (() => Date.now());
  let since = 0;
  let stopped = false;
  let lastContactAt = now();
  let lastFailure: LiveSync['lastFailure'];
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      controller = new AbortController();
      const signal = controller.signal;
      const started = now();
      const timer = setTimeout(() => controller?.abort(), LIVE_HOLD_MS + EXTRA_TIMEOUT_MS);
      let retry = false;
      try {
        const response = await options.api.live(options.meetingCode, options.auth, { since, connection: options.connection() }, signal);
        lastContactAt = now();
        lastFailure = undefined;
        if (response.state && !stopped) {
          since = response.state.version;
          options.onState(response.state);
        }
      } catch (error) {
        if (stopped) return;
        if (error instanceof AppApiError && error.status > 0) {
          // The server answered, if not with what we wanted.
          lastContactAt = now();
          lastFailure = undefined;
          if (error.reason === 'unknown-attendee') return options.onGone('attendee');
          if (error.failure === 'NotFoundException') return options.onGone('meeting');
        } else {
          lastFailure = { kind: now() - started < REFUSED_WITHIN_MS && !signal.aborted ? 'refused' : 'timeout' };
        }
        retry = true;
      } finally {
        clearTimeout(timer);
      }
      if (retry && !stopped) await pause(RETRY_MS);
    }
  };
  void loop();

  return {
    get lastContactAt() {
      return lastContactAt;
    },
    get lastFailure() {
      return lastFailure;
    },
    kick: () => wake?.(),
    stop: () => {
      stopped = true;
      controller?.abort();
      wake?.();
    },
  };
}
