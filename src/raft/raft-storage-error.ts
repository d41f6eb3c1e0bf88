/**
 * Why a log index could not be served, as etcd's ErrCompacted, ErrUnavailable and
 * ErrSnapOutOfDate: callers branch on `kind`, never on the message.
 */
export type RaftStorageErrorKind = 'compacted' | 'unavailable' | 'snapshotOutOfDate';

export class RaftStorageError extends Error {
  override readonly name = 'RaftStorageError';
  readonly kind: RaftStorageErrorKind;
  /** The index that was asked for. */
  readonly index: number;

  constructor(kind: RaftStorageErrorKind, index: number, message: string) {
    super(message);
    this.kind = kind;
    this.index = index;
  }

  static compacted(index: number, firstIndex: number): RaftStorageError {
    return new RaftStorageError(
      'compacted',
      index,
      `log index ${index} is compacted (first available index is ${firstIndex}); send a snapshot instead`,
    );
  }

  static unavailable(index: number, lastIndex: number): RaftStorageError {
    return new RaftStorageError('unavailable', index, `log index ${index} is not available yet (last index is ${lastIndex})`);
  }
}

/** True when `error` says the index exists no more or not yet: the caller has a fallback for both. */
export function isIndexOutOfRange(error: unknown): error is RaftStorageError {
  return error instanceof RaftStorageError && (error.kind === 'compacted' || error.kind === 'unavailable');
}
