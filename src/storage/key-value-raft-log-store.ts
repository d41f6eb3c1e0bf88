import assert from 'node:assert/strict';
import { z } from 'zod';
import { decodeEntries, encodeEntries } from '../raft/entry-codec.js';
import { entrySizeBytes } from '../raft/entry-size-bytes.js';
import { RaftStorageError } from '../raft/raft-storage-error.js';
import type { Entry } from '../raft/raft-types.js';
import { checksumValue, corruptRecord, verifyChecksummedValue } from './checksummed-value.js';
import type { KeyValueOperation, KeyValueStore } from './key-value-store.js';
import { packValue, safeNonNegativeInteger, unpackValue } from './packed-value.js';
import type { RaftLogStore } from './raft-log-store.js';
import { SerialQueue } from './serial-queue.js';
import { raftCompactionKey, raftEntryIndex, raftEntryKey, raftEntryRange } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';

/** Index and term of the last entry compaction removed (etcd's dummy entry); 0 and 0 on a new log. */
interface CompactionPoint {
  readonly index: number;
  readonly term: number;
}

const compactionSchema = z.object({ index: safeNonNegativeInteger, term: safeNonNegativeInteger });

/**
 * Opens the Raft log kept in `engine` under the `01`/`02` keys (storage-keys.ts), reading its
 * compaction point and last index once; after that they are cached.
 */
export async function openRaftLogStore(engine: KeyValueStore, writer: StorageWriter): Promise<RaftLogStore> {
  const compactionRecord = 'raft log compaction point';
  const compactionBytes = await getStoredRecord(engine, raftCompactionKey(), compactionRecord);
  const compaction: CompactionPoint =
    compactionBytes === undefined ? { index: 0, term: 0 } : unpackValue(compactionBytes, compactionSchema, recordIn(engine, compactionRecord));
  const first = await storedEntryAtEnd(engine, compaction.index + 1, 'first');
  const last = await storedEntryAtEnd(engine, compaction.index + 1, 'last');
  if (first !== undefined && first.index !== compaction.index + 1) {
    const where = recordIn(engine, `raft log index ${compaction.index + 1}`);
    throw corruptRecord(where, `the entry after the compaction point is missing (the next stored is ${first.index})`);
  }
  return new KeyValueRaftLogStore(engine, writer, compaction, last?.index ?? compaction.index);
}

/** The first or last stored entry at or after `fromIndex`. */
async function storedEntryAtEnd(engine: KeyValueStore, fromIndex: number, end: 'first' | 'last'): Promise<Entry | undefined> {
  const range = { ...raftEntryRange(fromIndex), reverse: end === 'last', limit: 1 };
  for await (const [key, value] of rangeStoredRecords(engine, range, `the ${end} raft log entry`)) {
    return decodeStoredEntry(value, raftEntryIndex(key), engine);
  }
  return undefined;
}

function encodeStoredEntry(entry: Entry): Uint8Array {
  return checksumValue(encodeEntries([entry]));
}

/** The entry at `expectedIndex`, read from `engine`; CORRUPT_RECORD naming both if it is damaged. */
function decodeStoredEntry(bytes: Uint8Array, expectedIndex: number, engine: KeyValueStore): Entry {
  const where = recordIn(engine, `raft log index ${expectedIndex}`);
  const payload = verifyChecksummedValue(bytes, where);
  let entry: Entry | undefined;
  try {
    entry = decodeEntries(payload)[0];
  } catch (error) {
    throw corruptRecord(where, `the entry does not decode (${error instanceof Error ? error.message : String(error)})`);
  }
  if (entry === undefined || entry.index !== expectedIndex) {
    throw corruptRecord(where, `the stored entry holds index ${entry?.index ?? 'none'}`);
  }
  return entry;
}

class KeyValueRaftLogStore implements RaftLogStore {
  private readonly queue = new SerialQueue();

  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
    private compaction: CompactionPoint,
    private last: number,
  ) {}

  firstIndex(): number {
    return this.compaction.index + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  async term(index: number): Promise<number> {
    assertIndex(index, 'index');
    if (index === this.compaction.index) return this.compaction.term;
    this.assertAvailable(index, index);
    const bytes = await getStoredRecord(this.engine, raftEntryKey(index), `raft log index ${index}`);
    if (bytes === undefined) throw this.missingEntry(index);
    return decodeStoredEntry(bytes, index, this.engine).term;
  }

  async entries(low: number, high: number, maxBytes: number): Promise<Entry[]> {
    assertIndex(low, 'low');
    assertIndex(high, 'high');
    assert.ok(low <= high, `entries(low=${low}, high=${high}) needs low <= high`);
    assert.ok(Number.isSafeInteger(maxBytes) && maxBytes > 0, `maxBytes must be a positive integer, got ${maxBytes}`);
    this.assertAvailable(low, high - 1);
    if (low === high) return [];
    const result: Entry[] = [];
    let totalBytes = 0;
    const records = high - low === 1 ? `raft log index ${low}` : `raft log indexes ${low} to ${high - 1}`;
    for await (const [, value] of rangeStoredRecords(this.engine, raftEntryRange(low, high), records)) {
      const entry = decodeStoredEntry(value, low + result.length, this.engine);
      totalBytes += entrySizeBytes(entry);
      if (totalBytes > maxBytes && result.length > 0) return result;
      result.push(entry);
    }
    if (result.length < high - low) throw this.missingEntry(low + result.length);
    return result;
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.queue.run(async () => {
      assertContiguous(entries);
      const kept = entries.filter((entry) => entry.index > this.compaction.index);
      const first = kept[0];
      if (first === undefined) return;
      if (first.index > this.last + 1) throw RaftStorageError.unavailable(first.index - 1, this.last);
      const newLast = first.index + kept.length - 1;
      const operations: KeyValueOperation[] = kept.map((entry) => ({ type: 'put', key: raftEntryKey(entry.index), value: encodeStoredEntry(entry) }));
      operations.push(...deletions(newLast + 1, this.last));
      await this.writer.write(operations);
      this.last = newLast;
    });
  }

  truncateSuffix(fromIndex: number): Promise<void> {
    return this.queue.run(async () => {
      assertIndex(fromIndex, 'fromIndex');
      if (fromIndex <= this.compaction.index) throw RaftStorageError.compacted(fromIndex, this.firstIndex());
      if (fromIndex > this.last) return;
      await this.writer.write(deletions(fromIndex, this.last));
      this.last = fromIndex - 1;
    });
  }

  compactPrefix(throughIndex: number, termAtThrough: number): Promise<void> {
    return this.queue.run(async () => {
      assertIndex(throughIndex, 'throughIndex');
      assertIndex(termAtThrough, 'termAtThrough');
      if (throughIndex < this.compaction.index) throw RaftStorageError.compacted(throughIndex, this.firstIndex());
      if (throughIndex === this.compaction.index) {
        const { term } = this.compaction;
        assert.equal(termAtThrough, term, `index ${throughIndex} is already compacted at term ${term}, not ${termAtThrough}`);
        return;
      }
      const keepsSuffix = throughIndex <= this.last && (await this.term(throughIndex)) === termAtThrough;
      const deleteThrough = keepsSuffix ? throughIndex : this.last;
      const compaction = { index: throughIndex, term: termAtThrough };
      const operations = deletions(this.firstIndex(), deleteThrough);
      operations.push({ type: 'put', key: raftCompactionKey(), value: packValue(compaction) });
      await this.writer.write(operations);
      this.compaction = compaction;
      this.last = keepsSuffix ? this.last : throughIndex;
    });
  }

  private missingEntry(index: number): Error {
    return corruptRecord(recordIn(this.engine, `raft log index ${index}`), `the entry is missing from a log holding ${this.firstIndex()} to ${this.last}`);
  }

  private assertAvailable(low: number, high: number): void {
    if (low <= this.compaction.index) throw RaftStorageError.compacted(low, this.firstIndex());
    if (high > this.last) throw RaftStorageError.unavailable(high, this.last);
  }
}

/** Deletes of the entries in [from, through]; none when the range is empty. */
function deletions(from: number, through: number): KeyValueOperation[] {
  const operations: KeyValueOperation[] = [];
  for (let index = from; index <= through; index++) operations.push({ type: 'del', key: raftEntryKey(index) });
  return operations;
}

function assertContiguous(entries: readonly Entry[]): void {
  const first = entries[0];
  entries.forEach((entry, position) => {
    assert.equal(entry.index, (first?.index ?? 0) + position, `entries to append must be contiguous (at ${(first?.index ?? 0) + position})`);
  });
}

function assertIndex(value: number, name: string): void {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${name} must be a safe non-negative integer, got ${value}`);
}
