import { TributaryError } from '../errors/index.js';

/** Exit statuses of `trib`: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** The one line a failed command prints on stderr: the error code when there is one, and why. */
export function describeFailure(error: unknown): string {
  if (error instanceof TributaryError) {
    const hint = error.leaderHint?.address ? ` (leader: ${error.leaderHint.address})` : '';
    return `trib: ${error.code}: ${error.message}${hint}`;
  }
  return `trib: ${error instanceof Error ? error.message : String(error)}`;
}
