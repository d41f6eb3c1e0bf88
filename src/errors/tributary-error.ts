import { type ErrorCode, isRetriableByDefault } from './error-code.js';

/** The wire carries the delay as uint32 milliseconds (about 49 days). */
export const retryAfterMsMax = 2 ** 32 - 1;

/** Where to retry after NOT_LEADER, when the sender knows. */
export interface LeaderHint {
  /** Node id of the leader; 0 when unknown. */
  nodeId: number;
  /** "host:port" of that leader; empty when unknown. */
  address: string;
  /** Leader epoch (partitions) or Raft term (controllers) of that leadership. */
  epoch: number;
}

export interface TributaryErrorOptions {
  retriable?: boolean;
  retryAfterMs?: number;
  leaderHint?: LeaderHint;
  cause?: unknown;
}

/**
 * The one error type that crosses Tributary's boundaries. Servers turn it into a gRPC status plus
 * the `tributary-error-bin` trailer; clients turn that back into a TributaryError, so callers
 * branch on `code` and `retriable`, never on message text.
 */
export class TributaryError extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly retryAfterMs: number;
  readonly leaderHint: LeaderHint | undefined;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const retryAfterMs = options.retryAfterMs ?? 0;
    if (!Number.isSafeInteger(retryAfterMs) || retryAfterMs < 0 || retryAfterMs > retryAfterMsMax) {
      throw new RangeError(`retryAfterMs must be an integer from 0 to ${retryAfterMsMax}, got ${retryAfterMs}`);
    }
    this.code = code;
    this.retriable = options.retriable ?? isRetriableByDefault(code);
    this.retryAfterMs = retryAfterMs;
    this.leaderHint = options.leaderHint;
  }

  /** Wraps anything thrown into a TributaryError, keeping an existing one as it is. */
  static from(error: unknown): TributaryError {
    if (error instanceof TributaryError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new TributaryError('UNKNOWN', message, { cause: error });
  }
}
