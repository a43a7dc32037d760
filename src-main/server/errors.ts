import { CHIME_EXCEPTIONS, type ChimeExceptionName } from '../shared/chime-types.js';

/**
 * The one error class the control plane throws. `name` is the Chime exception
 * name the HTTP layer puts in `x-amzn-ErrorType`, so a handler never decides
 * status codes or wire shapes itself.
 */
export class ChimeApiError extends Error {
  readonly exception: ChimeExceptionName;
  readonly status: number;
  readonly code: string;

  constructor(exception: ChimeExceptionName, message: string, status?: number) {
    super(message);
    this.name = exception;
    this.exception = exception;
    this.status = status ?? CHIME_EXCEPTIONS[exception].status;
    this.code = CHIME_EXCEPTIONS[exception].code;
  }
}

export const badRequest = (message: string): ChimeApiError => new ChimeApiError('BadRequestException', message);
export const notFound = (message: string): ChimeApiError => new ChimeApiError('NotFoundException', message);
export const forbidden = (message: string): ChimeApiError => new ChimeApiError('ForbiddenException', message);
export const limitExceeded = (message: string): ChimeApiError => new ChimeApiError('LimitExceededException', message);

/**
 * Errors of the server runtime itself, each with a stable code: configuration,
 * startup and lifecycle (CLOSED), and media negotiation: an offer the peer cannot
 * use (OFFER_REFUSED), or a participant that left while its offer was answered (GONE).
 */
export type ChorusErrorCode = 'CONFIG_INVALID' | 'CLOSED' | 'STARTUP_FAILED' | 'OFFER_REFUSED' | 'GONE';

export class ChorusError extends Error {
  readonly code: ChorusErrorCode;

  constructor(code: ChorusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChorusError';
    this.code = code;
  }
}
