import type { Logger } from '../../logger.js';

/**
 * Wraps a callback handed to node-datachannel. An exception escaping such a
 * callback aborts the whole process (SIGABRT; `uncaughtException` never sees it),
 * so every one of them goes through here and failures are logged instead.
 */
export function guarded<A extends unknown[]>(logger: Logger, label: string, fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (error) {
      logger.error('native_callback_failed', { callback: label, error });
    }
  };
}
