import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { RaftStorageError } from '../../../src/raft/raft-storage-error.js';
import type { Entry } from '../../../src/raft/raft-types.js';
import { openRaftLogStore } from '../../../src/storage/key-value-raft-log-store.js';
import type { RaftLogStore } from '../../../src/storage/raft-log-store.js';
import { raftEntryKey } from '../../../src/storage/storage-keys.js';
import { type EngineHandle, engineKinds, flipStoredByte, rejectionOf } from '../../support/storage-engines.js';

function entry(index: number, term: number, bytes = 0): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(bytes).fill(index) };
}

function entriesWithTerms(firstIndex: number, terms: readonly number[]): Entry[] {
  return terms.map((term, position) => entry(firstIndex + position, term));
}

async function termsOf(log: RaftLogStore): Promise<number[]> {
  if (log.lastIndex() < log.firstIndex()) return [];
  return (await log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER)).map((item) => item.term);
}

describe.each(engineKinds)('RaftLogStore on $name', (kind) => {
  let handle: EngineHandle;

  afterEach(async () => {
    await handle.dispose();
  });

  async function openLog(): Promise<RaftLogStore> {
    handle = await kind.open();
    return openRaftLogStore(handle.engine, handle.writer);
  }

  it('starts empty, with term 0 at index 0', async () => {
    const log = await openLog();
    expect([log.firstIndex(), log.lastIndex(), await log.term(0)]).toEqual([1, 0, 0]);
    expect(await log.entries(1, 1, 100)).toEqual([]);
  });

  it('appends and reads back ranges within maxBytes, but at least one entry', async () => {
    const log = await openLog();
    await log.append([entry(1, 1, 100), entry(2, 1, 100), entry(3, 2, 100)]);
    expect(await log.entries(1, 4, 1_000)).toEqual([entry(1, 1, 100), entry(2, 1, 100), entry(3, 2, 100)]);
    expect((await log.entries(1, 4, 250)).map((item) => item.index)).toEqual([1, 2]);
    expect((await log.entries(2, 4, 1)).map((item) => item.index)).toEqual([2]);
    expect(await log.term(3)).toBe(2);
  });

  it('replaces the suffix from an append at or below the last index, and refuses a gap', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 2, 2, 2]));
    await log.append([entry(3, 3)]);
    expect([log.lastIndex(), await termsOf(log)]).toEqual([3, [1, 1, 3]]);
    const gap = await rejectionOf(() => log.append([entry(6, 3)]));
    expect(gap).toBeInstanceOf(RaftStorageError);
    expect(gap).toMatchObject({ kind: 'unavailable', message: 'log index 5 is not available yet (last index is 3)' });
    await expect(log.append([entry(1, 1), entry(3, 1)])).rejects.toThrow('entries to append must be contiguous (at 2)');
  });

  it('says which indices are unavailable', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1]));
    await expect(log.term(3)).rejects.toMatchObject({ kind: 'unavailable', index: 3 });
    await expect(log.entries(1, 4, 100)).rejects.toMatchObject({ kind: 'unavailable', index: 3 });
  });

  it('truncates a suffix', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 2, 2]));
    await log.truncateSuffix(3);
    await log.truncateSuffix(9);
    expect([log.lastIndex(), await termsOf(log)]).toEqual([2, [1, 1]]);
    await log.append([entry(3, 4)]);
    expect(await termsOf(log)).toEqual([1, 1, 4]);
  });

  it('compacts a prefix, keeping the suffix when the term at the compaction point matches', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 2, 2, 3]));
    await log.compactPrefix(3, 2);
    expect([log.firstIndex(), log.lastIndex(), await log.term(3), await termsOf(log)]).toEqual([4, 5, 2, [2, 3]]);
    const compacted = await rejectionOf(() => log.term(2));
    expect(compacted).toMatchObject({ kind: 'compacted', index: 2 });
    expect(compacted.message).toBe('log index 2 is compacted (first available index is 4); send a snapshot instead');
    await expect(log.entries(3, 5, 100)).rejects.toMatchObject({ kind: 'compacted' });
    await expect(log.truncateSuffix(3)).rejects.toMatchObject({ kind: 'compacted' });
    await log.append([entry(2, 9), entry(3, 9), entry(4, 2), entry(5, 3), entry(6, 3)]);
    expect(await termsOf(log)).toEqual([2, 3, 3]);
  });

  it('drops the whole log when a snapshot conflicts with it or lies beyond it', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 2, 2]));
    await log.compactPrefix(3, 5);
    expect([log.firstIndex(), log.lastIndex(), await log.term(3)]).toEqual([4, 3, 5]);
    await log.compactPrefix(10, 6);
    expect([log.firstIndex(), log.lastIndex(), await log.term(10)]).toEqual([11, 10, 6]);
    await log.append([entry(11, 6)]);
    expect(await termsOf(log)).toEqual([6]);
  });

  it('keeps entries and the compaction point across a restart', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 2, 2, 3]));
    await log.compactPrefix(2, 1);
    await log.truncateSuffix(5);
    handle = await handle.reopen();
    const reopened = await openRaftLogStore(handle.engine, handle.writer);
    expect([reopened.firstIndex(), reopened.lastIndex(), await reopened.term(2), await termsOf(reopened)]).toEqual([3, 4, 1, [2, 2]]);
  });

  it('reports a corrupted entry as CORRUPT_RECORD naming its index', async () => {
    const log = await openLog();
    await log.append(entriesWithTerms(1, [1, 1, 1]));
    await flipStoredByte(handle.engine, raftEntryKey(2), 7);
    const error = await rejectionOf(() => log.entries(1, 4, 1_000));
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(error.message).toContain(`raft log index 2 in ${handle.engine.location}: `);
    expect(error.message).toMatch(/^raft log index 2 in [^:]+: stored CRC-32C 0x[0-9a-f]{8} does not match the bytes/);
    await expect(log.term(2)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(await log.term(3)).toBe(1);
  });
});
