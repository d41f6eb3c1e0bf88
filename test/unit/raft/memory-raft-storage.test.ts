import { describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import { RaftStorageError } from '../../../src/raft/raft-storage-error.js';
import type { Entry } from '../../../src/raft/raft-types.js';

const membership = { voters: [1, 2, 3], learners: [] };

function entry(index: number, term: number, bytes = 0): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(bytes) };
}

function storageWith(terms: number[]): MemoryRaftStorage {
  const storage = new MemoryRaftStorage(membership);
  storage.append(terms.map((term, position) => entry(position + 1, term)));
  return storage;
}

function storageError(action: () => unknown): RaftStorageError {
  try {
    action();
  } catch (error) {
    if (error instanceof RaftStorageError) return error;
    throw error;
  }
  throw new Error('expected a RaftStorageError');
}

describe('MemoryRaftStorage', () => {
  it('starts empty with the bootstrap membership as its snapshot', () => {
    const storage = new MemoryRaftStorage(membership);
    expect(storage.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, membership });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 0, 0]);
  });

  it('appends, and replaces a conflicting suffix', () => {
    const storage = storageWith([1, 1, 2, 2]);
    storage.append([entry(3, 3)]);
    expect(storage.lastIndex()).toBe(3);
    expect([1, 2, 3].map((index) => storage.term(index))).toEqual([1, 1, 3]);
    expect(storageError(() => storage.append([entry(6, 3)]))).toMatchObject({ kind: 'unavailable' });
  });

  it('returns entries within maxBytes, but at least one', () => {
    const storage = new MemoryRaftStorage(membership);
    storage.append([entry(1, 1, 100), entry(2, 1, 100), entry(3, 1, 100)]);
    expect(storage.entries(1, 4, 250).map((item) => item.index)).toEqual([1, 2]);
    expect(storage.entries(1, 4, 1).map((item) => item.index)).toEqual([1]);
  });

  it('compacts only what a snapshot covers, then says which indices are gone', () => {
    const storage = storageWith([1, 1, 2, 2, 3]);
    const snapshot = storage.createSnapshot(4, membership, new Uint8Array([9]));
    expect(snapshot.metadata).toEqual({ index: 4, term: 2, membership });
    expect(() => storage.compact(5)).toThrow('cannot compact to index 5 beyond the snapshot at 4');
    storage.compact(3);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(3)]).toEqual([4, 5, 2]);
    const compacted = storageError(() => storage.term(2));
    expect(compacted).toMatchObject({ kind: 'compacted', index: 2 });
    expect(compacted.message).toBe('log index 2 is compacted (first available index is 4); send a snapshot instead');
    expect(storageError(() => storage.entries(3, 5, 1000)).kind).toBe('compacted');
    expect(storageError(() => storage.term(6))).toMatchObject({ kind: 'unavailable', message: 'log index 6 is not available yet (last index is 5)' });
    expect(storageError(() => storage.compact(3)).kind).toBe('compacted');
  });

  it('skips appended entries that are already compacted', () => {
    const storage = storageWith([1, 1, 1]);
    storage.createSnapshot(2, membership, new Uint8Array(0));
    storage.compact(2);
    storage.append([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2)]);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(4)]).toEqual([3, 4, 2]);
  });

  it('replaces the log with an applied snapshot, refusing an older one', () => {
    const storage = storageWith([1, 1]);
    const snapshot = { metadata: { index: 10, term: 4, membership }, data: new Uint8Array([1]) };
    storage.applySnapshot(snapshot);
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(10)]).toEqual([11, 10, 4]);
    expect(storage.snapshot()).toBe(snapshot);
    expect(storage.initialState().membership).toBe(membership);
    expect(storageError(() => storage.applySnapshot({ ...snapshot, metadata: { ...snapshot.metadata, index: 9 } })).kind).toBe('snapshotOutOfDate');
  });
});
