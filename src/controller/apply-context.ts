import { TributaryError, type ErrorCode } from '../errors/index.js';
import type { MetadataDelta } from './metadata-delta.js';
import type { MetadataState } from './metadata-state.js';

/**
 * What one command's handler works with: the state it mutates, the Raft index it is applied at
 * (which becomes the metadata version and tags every delta), and the deltas it emits.
 *
 * Handlers validate fully before their first mutation and reject by throwing `rejectCommand`, so a
 * rejected command changes nothing; after the first mutation only assertions may throw.
 */
export interface ApplyContext {
  readonly state: MetadataState;
  readonly index: number;
  readonly deltas: MetadataDelta[];
}

export function rejectCommand(code: ErrorCode, message: string): never {
  throw new TributaryError(code, message);
}

/** Rejects with RESOURCE_EXHAUSTED naming the limit when `count` more would exceed it. */
export function requireRoom(current: number, adding: number, limit: number, what: string): void {
  if (current + adding > limit) {
    rejectCommand('RESOURCE_EXHAUSTED', `${what}: ${current} exist and ${adding} more would exceed the limit of ${limit}`);
  }
}
