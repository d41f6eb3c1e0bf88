import assert from 'node:assert/strict';
import { limitEntriesBytes } from './entry-size-bytes.js';
import { RaftStorageError } from './raft-storage-error.js';
import type { Entry, HardState, Membership, RaftStorage, Snapshot } from './raft-types.js';

const emptyHardState: HardState = { term: 0, vote: 0, commit: 0 };

/**
 * Stable storage held in memory, like etcd's MemoryStorage: the core reads it through RaftStorage,
 * the host writes it after persisting each Ready (applySnapshot, append, setHardState) and
 * compacts it after taking a snapshot (createSnapshot, compact).
 *
 * `initialState().membership` is the membership of the stored snapshot. A new cluster is
 * bootstrapped by passing its membership to the constructor, which becomes the snapshot at index 0.
 */
export class MemoryRaftStorage implements RaftStorage {
  private hardState: HardState = emptyHardState;
  private currentSnapshot: Snapshot;
  /** Index and term of the entry just before `entries` (etcd's dummy entry ents[0]). */
  private compactedIndex = 0;
  private compactedTerm = 0;
  /** entries[i].index === compactedIndex + 1 + i. */
  private entryList: Entry[] = [];

  constructor(membership: Membership = { voters: [], learners: [] }) {
    this.currentSnapshot = { metadata: { index: 0, term: 0, membership }, data: new Uint8Array(0) };
  }

  initialState(): { hardState: HardState; membership: Membership } {
    return { hardState: this.hardState, membership: this.currentSnapshot.metadata.membership };
  }

  entries(low: number, high: number, maxBytes: number): Entry[] {
    if (low <= this.compactedIndex) throw RaftStorageError.compacted(low, this.firstIndex());
    if (high > this.lastIndex() + 1) throw RaftStorageError.unavailable(high - 1, this.lastIndex());
    assert.ok(low <= high, `entries(low=${low}, high=${high}) needs low <= high`);
    const offset = this.compactedIndex + 1;
    return limitEntriesBytes(this.entryList.slice(low - offset, high - offset), maxBytes);
  }

  term(index: number): number {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex) throw RaftStorageError.compacted(index, this.firstIndex());
    if (index > this.lastIndex()) throw RaftStorageError.unavailable(index, this.lastIndex());
    const entry = this.entryList[index - this.compactedIndex - 1];
    assert.ok(entry !== undefined && entry.index === index);
    return entry.term;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + this.entryList.length;
  }

  snapshot(): Snapshot {
    return this.currentSnapshot;
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /**
   * Appends entries persisted from a Ready. Entries that conflict with stored ones replace them and
   * everything after them (the leader overwrote an uncommitted suffix); entries already compacted
   * are skipped.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assertContiguous(entries);
    const last = first.index + entries.length - 1;
    if (last <= this.compactedIndex) return;
    const kept = first.index <= this.compactedIndex ? entries.slice(this.compactedIndex + 1 - first.index) : entries;
    const keptFirstIndex = Math.max(first.index, this.compactedIndex + 1);
    if (keptFirstIndex > this.lastIndex() + 1) {
      throw RaftStorageError.unavailable(keptFirstIndex - 1, this.lastIndex());
    }
    // Truncate in place and push: copying the whole log per append would be quadratic.
    this.entryList.length = keptFirstIndex - this.compactedIndex - 1;
    for (const entry of kept) this.entryList.push(entry);
    assert.equal(this.lastIndex(), last);
  }

  /**
   * Replaces the whole log with `snapshot` (a follower installing one its leader sent). One at the
   * stored snapshot's index is taken only while no entry follows it: a new node's first snapshot
   * may be the cluster's bootstrap one, at index 0.
   */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    const current = this.currentSnapshot.metadata.index;
    if (index < current || (index === current && this.lastIndex() > index)) {
      throw new RaftStorageError(
        'snapshotOutOfDate',
        index,
        `snapshot at index ${index} is older than the stored one at ${this.currentSnapshot.metadata.index}`,
      );
    }
    this.currentSnapshot = snapshot;
    this.compactedIndex = index;
    this.compactedTerm = term;
    this.entryList = [];
  }

  /**
   * Records the host's state machine state as of `index` as the snapshot to send lagging followers.
   * It does not compact: call compact(index) afterwards, perhaps keeping some entries for followers
   * that are only slightly behind.
   */
  createSnapshot(index: number, membership: Membership, data: Uint8Array): Snapshot {
    const current = this.currentSnapshot.metadata.index;
    if (index <= current) {
      throw new RaftStorageError('snapshotOutOfDate', index, `a snapshot at index ${current} already covers index ${index}`);
    }
    if (index > this.lastIndex()) throw RaftStorageError.unavailable(index, this.lastIndex());
    this.currentSnapshot = { metadata: { index, term: this.term(index), membership }, data };
    return this.currentSnapshot;
  }

  /** Discards entries up to and including `index`, which the stored snapshot must cover. */
  compact(index: number): void {
    if (index <= this.compactedIndex) throw RaftStorageError.compacted(index, this.firstIndex());
    const snapshotIndex = this.currentSnapshot.metadata.index;
    assert.ok(
      index <= snapshotIndex,
      `cannot compact to index ${index} beyond the snapshot at ${snapshotIndex}: a lagging follower could not catch up`,
    );
    const term = this.term(index);
    this.entryList = this.entryList.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }
}

function assertContiguous(entries: readonly Entry[]): void {
  const first = entries[0];
  assert.ok(first !== undefined);
  entries.forEach((entry, position) => {
    assert.equal(entry.index, first.index + position, `entries to append must be contiguous (at ${first.index + position})`);
  });
}
