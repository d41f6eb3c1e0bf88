import type { Entry } from '../raft/raft-types.js';

/**
 * The Raft log on stable storage (hashicorp/raft's LogStore, etcd's Storage), for the Raft host:
 * it persists each Ready's entries here BEFORE sending messages, and compacts after snapshots.
 * Indices it no longer holds or does not hold yet raise RaftStorageError 'compacted' or
 * 'unavailable', as the core expects; a stored entry that fails its checksum raises
 * TributaryError CORRUPT_RECORD naming the index. Every method that writes resolves once durable.
 */
export interface RaftLogStore {
  /** Index of the first stored entry: the compaction index + 1. Cached, so synchronous. */
  firstIndex(): number;
  /** Index of the last entry; firstIndex() - 1 when the log is empty. Cached. */
  lastIndex(): number;
  /** Term of the entry at `index`; for firstIndex() - 1, the term recorded at compaction. */
  term(index: number): Promise<number>;
  /** Entries in [low, high), stopping before `maxBytes` is exceeded but returning at least one. */
  entries(low: number, high: number, maxBytes: number): Promise<Entry[]>;
  /**
   * Appends contiguous entries. One at an index ≤ lastIndex() replaces that entry and everything
   * after it (a leader overwrote an uncommitted suffix); entries at or below the compaction index
   * are skipped, since a snapshot already covers them.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /** Removes entries at `fromIndex` and after. */
  truncateSuffix(fromIndex: number): Promise<void>;
  /**
   * Removes entries up to and including `throughIndex`, covered by a snapshot whose last entry
   * has `termAtThrough`. If the log holds a different term there, or ends before it, the whole
   * log goes: its entries conflict with the snapshot (Raft §7).
   */
  compactPrefix(throughIndex: number, termAtThrough: number): Promise<void>;
}
