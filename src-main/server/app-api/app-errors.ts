import type { AppErrorReason } from '../../shared/app-api.js';
import type { ChimeExceptionName } from '../../shared/chime-types.js';
import { ChimeApiError } from '../errors.js';

/**
 * A Chime-style error that also says why, in words the app switches on
 * (`Reason` in the error body): a wrong passcode and a ban are both 403s,
 * but people must be told different things.
 */
export class AppRefusal extends ChimeApiError {
  constructor(
    exception: ChimeExceptionName,
    message: string,
    readonly reason: AppErrorReason,
  ) {
    super(exception, message);
  }
}

export const refuse = (reason: AppErrorReason, message: string, exception: ChimeExceptionName = 'ForbiddenException'): AppRefusal => new AppRefusal(exception, message, reason);
