import assert from 'node:assert/strict';
import { limitEntriesBytes } from './entry-size-bytes.js';
import { RaftStorageError } from './raft-storage-error.js';
import type { Entry, RaftStorage, Snapshot } from './raft-types.js';
import { UnstableLog } from './unstable-log.js';

/** Entries read per page when scanning a range, so a long scan never holds the whole log at once. */
const scanPageEntriesMax = 1024;

/** Where a follower's log diverges from an append it rejected, for the leader's fast backtracking. */
export interface ConflictHint {
  readonly conflictTerm: number;
  readonly conflictIndex: number;
}

/**
 * The log as the core sees it (etcd's raftLog): stable storage, then unstable entries or a pending
 * snapshot on top. Invariant: applied <= committed <= lastIndex, firstIndex - 1 <= committed.
 */
export class RaftLog {
  readonly storage: RaftStorage;
  readonly unstable: UnstableLog;
  committed: number;
  applied: number;

  constructor(storage: RaftStorage) {
    this.storage = storage;
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = storage.firstIndex() - 1;
    this.applied = this.committed;
  }

  firstIndex(): number {
    return this.unstable.firstIndexOrUndefined() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndexOrUndefined() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of the entry at `index`; throws RaftStorageError when compacted or not yet there. */
  term(index: number): number {
    const term = this.termOrUndefined(index);
    if (term !== undefined) return term;
    const firstIndex = this.firstIndex();
    if (index < firstIndex - 1) throw RaftStorageError.compacted(index, firstIndex);
    throw RaftStorageError.unavailable(index, this.lastIndex());
  }

  /** Term of the entry at `index`, or undefined when compacted or not yet there (no exception: this is hot). */
  termOrUndefined(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    return this.unstable.termOrUndefined(index) ?? this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.termOrUndefined(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /** Index of the first entry that is new or disagrees on term with ours; 0 when all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The follower side of AppendEntries: when our entry at prevIndex has prevTerm, appends the
   * entries that are new (truncating a conflicting uncommitted suffix), commits up to `commit`
   * and returns the last index now known to match the leader; otherwise undefined.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNewIndex = prevIndex + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert.ok(conflictIndex > this.committed, `entry ${conflictIndex} conflicts with the committed prefix (commit ${this.committed})`);
      this.append(entries.slice(conflictIndex - prevIndex - 1));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries after (or replacing part of) the uncommitted tail; returns the new last index. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert.ok(first.index > this.committed, `cannot overwrite committed entry ${first.index} (commit ${this.committed})`);
    assert.ok(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** What a follower tells the leader when it rejects an append whose prevLogIndex is `rejected`. */
  conflictHint(rejected: number): ConflictHint {
    const lastIndex = this.lastIndex();
    if (rejected > lastIndex) return { conflictTerm: 0, conflictIndex: lastIndex + 1 };
    const conflictTerm = this.term(rejected);
    // Entries at or below the commit index agree with every leader, so the scan stops there.
    const lowest = Math.max(this.committed + 1, this.firstIndex());
    let conflictIndex = rejected;
    while (conflictIndex > lowest && this.termOrUndefined(conflictIndex - 1) === conflictTerm) conflictIndex--;
    return { conflictTerm, conflictIndex };
  }

  /** The largest index in (floor, from] whose term is `term`, scanning down while terms are higher. */
  lastIndexOfTerm(term: number, from: number, floor: number): number | undefined {
    for (let index = from; index > floor; index--) {
      const found = this.termOrUndefined(index);
      if (found === undefined || found < term) return undefined;
      if (found === term) return index;
    }
    return undefined;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert.ok(index <= this.lastIndex(), `commit ${index} is beyond the last index ${this.lastIndex()}: was the log lost?`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert.ok(this.applied <= index && index <= this.committed, `applied ${index} must be within [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** Entries in [low, high) within `bytesMax` (at least one); throws when low is compacted. */
  slice(low: number, high: number, bytesMax: number): Entry[] {
    const firstIndex = this.firstIndex();
    if (low < firstIndex) throw RaftStorageError.compacted(low, firstIndex);
    assert.ok(low <= high && high <= this.lastIndex() + 1, `slice [${low}, ${high}) out of bounds (last ${this.lastIndex()})`);
    if (low === high) return [];
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (low < offset) {
      const storageHigh = Math.min(high, offset);
      result = this.storage.entries(low, storageHigh, bytesMax);
      if (result.length < storageHigh - low) return result;
    }
    if (high > offset) {
      const unstableEntries = this.unstable.slice(Math.max(low, offset), high);
      result = result.length === 0 ? unstableEntries : result.concat(unstableEntries);
    }
    return limitEntriesBytes(result, bytesMax);
  }

  /** Visits entries in [low, high) in order, a page at a time; stops early when `visit` returns true. */
  scan(low: number, high: number, visit: (entry: Entry) => boolean): boolean {
    for (let pageLow = low; pageLow < high; pageLow += scanPageEntriesMax) {
      const page = this.slice(pageLow, Math.min(high, pageLow + scanPageEntriesMax), Number.MAX_SAFE_INTEGER);
      for (const entry of page) if (visit(entry)) return true;
    }
    return false;
  }

  /** Committed entries not yet handed to the host, within `bytesMax`. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const low = Math.max(this.applied + 1, this.firstIndex());
    if (low > this.committed) return [];
    return this.slice(low, this.committed + 1, bytesMax);
  }

  hasNextCommittedEntries(): boolean {
    return Math.max(this.applied + 1, this.firstIndex()) <= this.committed;
  }

  /** The newest snapshot: a pending one, else the stored one. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Resets the log to `snapshot` (a follower installing what its leader sent). */
  restore(snapshot: Snapshot): void {
    const { index } = snapshot.metadata;
    // Equal to the commit index only for a new node's first (bootstrap) snapshot, with nothing after it.
    assert.ok(index > this.committed || (index === this.committed && this.lastIndex() === index),
      'a snapshot below the commit index, or above it with entries after it, is never restored');
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }
}
