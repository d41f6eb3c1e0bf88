import type { Entry, RaftStorage } from '../../src/raft/raft-types.js';
import { crc32 } from './crc32.js';
import type { LogView } from './observation.js';

/** A copy of what `storage` holds right now, as the checkers see logs. */
export function logViewOf(storage: RaftStorage): LogView {
  const snapshotIndex = storage.firstIndex() - 1;
  const terms: number[] = [];
  for (let index = snapshotIndex + 1; index <= storage.lastIndex(); index++) terms.push(storage.term(index));
  return { snapshotIndex, snapshotTerm: storage.term(snapshotIndex), terms };
}

/** Equal for entries with equal type and data: how checkers compare entries without keeping them. */
export function entryDigest(entry: Entry): number {
  return (crc32(entry.data) ^ (entry.type === 'confChange' ? 0x5bd1e995 : 0)) >>> 0;
}
