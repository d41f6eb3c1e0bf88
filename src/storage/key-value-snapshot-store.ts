import assert from 'node:assert/strict';
import { z } from 'zod';
import { TributaryError } from '../errors/index.js';
import type { SnapshotMetadata } from '../raft/raft-types.js';
import { corruptRecord, verifyChecksummedValue } from './checksummed-value.js';
import { crc32c } from './crc32c.js';
import type { KeyValueOperation, KeyValueStore } from './key-value-store.js';
import { chunkNumberBytes, KeyValueSnapshotSink, type SnapshotRecord } from './key-value-snapshot-sink.js';
import { safeNonNegativeInteger, unpackValue } from './packed-value.js';
import type { SnapshotSink, SnapshotStore, StoredSnapshot, StoredSnapshotMetadata } from './snapshot-store.js';
import {
  snapshotChunkKey,
  snapshotChunkRange,
  snapshotMetadataKey,
  snapshotMetadataRange,
  snapshotPendingIndex,
  snapshotPendingKey,
  snapshotPendingRange,
} from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';

/** Stored chunk size unless told otherwise: large enough to amortize a write, small enough to buffer. */
export const snapshotChunkBytesDefault = 1024 * 1024;

const recordSchema = z.object({
  index: safeNonNegativeInteger,
  term: safeNonNegativeInteger,
  membership: z.object({ voters: z.array(safeNonNegativeInteger), learners: z.array(safeNonNegativeInteger) }),
  sizeBytes: safeNonNegativeInteger,
  crc32c: z.number().int().nonnegative().max(0xffffffff),
  chunkCount: safeNonNegativeInteger,
});

export interface SnapshotStoreOptions {
  /** Bytes per stored chunk; snapshotChunkBytesDefault when omitted. */
  readonly chunkBytes?: number;
}

/** Opens the snapshot store in `engine`, first deleting the chunks of snapshots a crash left unfinished. */
export async function openSnapshotStore(engine: KeyValueStore, writer: StorageWriter, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
  await removeUnfinishedSnapshots(engine, writer);
  return new KeyValueSnapshotStore(engine, writer, options.chunkBytes ?? snapshotChunkBytesDefault);
}

async function removeUnfinishedSnapshots(engine: KeyValueStore, writer: StorageWriter): Promise<void> {
  const operations: KeyValueOperation[] = [];
  for await (const [pendingKey] of rangeStoredRecords(engine, snapshotPendingRange(), 'unfinished snapshots')) {
    operations.push({ type: 'del', key: pendingKey });
    const index = snapshotPendingIndex(pendingKey);
    const chunks = rangeStoredRecords(engine, snapshotChunkRange(index), `the chunks of the unfinished snapshot at index ${index}`);
    for await (const [chunkKey] of chunks) operations.push({ type: 'del', key: chunkKey });
  }
  if (operations.length > 0) await writer.write(operations);
}

class KeyValueSnapshotStore implements SnapshotStore {
  /** Indices with a sink still open in this process. */
  private readonly writing = new Set<number>();

  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
    private readonly chunkBytes: number,
  ) {}

  async create(metadata: SnapshotMetadata): Promise<SnapshotSink> {
    assertMetadata(metadata);
    const { index } = metadata;
    if (this.writing.has(index)) throw new TributaryError('INVALID_REQUEST', `a snapshot at index ${index} is already being written`);
    if ((await getStoredRecord(this.engine, snapshotMetadataKey(index), `snapshot metadata at index ${index}`)) !== undefined) {
      throw new TributaryError('INVALID_REQUEST', `a snapshot at index ${index} already exists; prune it or write a later one`);
    }
    this.writing.add(index);
    try {
      await this.writer.write([{ type: 'put', key: snapshotPendingKey(index), value: new Uint8Array(0) }]);
    } catch (error) {
      this.writing.delete(index);
      throw error;
    }
    return new KeyValueSnapshotSink(this.writer, metadata, this.chunkBytes, () => this.writing.delete(index));
  }

  async open(index: number): Promise<StoredSnapshot> {
    const bytes = await getStoredRecord(this.engine, snapshotMetadataKey(index), `snapshot metadata at index ${index}`);
    if (bytes === undefined) {
      const stored = (await this.list()).map((metadata) => metadata.index);
      throw new TributaryError('INVALID_REQUEST', `no snapshot at index ${index}; stored snapshots are at [${stored.join(', ')}]`);
    }
    const record = decodeRecord(this.engine, bytes, index);
    return { metadata: withoutChunkCount(record), chunks: () => readChunks(this.engine, record) };
  }

  async list(): Promise<StoredSnapshotMetadata[]> {
    return (await this.records()).map(withoutChunkCount);
  }

  async prune(retainCount: number): Promise<number> {
    assert.ok(Number.isSafeInteger(retainCount) && retainCount >= 1, `retainCount must be an integer of at least 1, got ${retainCount}`);
    const doomed = (await this.records()).slice(retainCount);
    if (doomed.length === 0) return 0;
    const operations: KeyValueOperation[] = [];
    for (const record of doomed) {
      operations.push({ type: 'del', key: snapshotMetadataKey(record.index) });
      for (let chunkNumber = 0; chunkNumber < record.chunkCount; chunkNumber++) {
        operations.push({ type: 'del', key: snapshotChunkKey(record.index, chunkNumber) });
      }
    }
    await this.writer.write(operations);
    return doomed.length;
  }

  /** Committed snapshots, newest first. */
  private async records(): Promise<SnapshotRecord[]> {
    const records: SnapshotRecord[] = [];
    const range = { ...snapshotMetadataRange(), reverse: true };
    for await (const [, value] of rangeStoredRecords(this.engine, range, 'snapshot metadata')) records.push(decodeRecord(this.engine, value));
    return records;
  }
}

function decodeRecord(engine: KeyValueStore, bytes: Uint8Array, index?: number): SnapshotRecord {
  const where = recordIn(engine, `snapshot metadata${index === undefined ? '' : ` at index ${index}`}`);
  const record = unpackValue(bytes, recordSchema, where);
  if (index !== undefined && record.index !== index) throw corruptRecord(where, `the stored metadata is for index ${record.index}`);
  return record;
}

function withoutChunkCount(record: SnapshotRecord): StoredSnapshotMetadata {
  const { index, term, membership, sizeBytes, crc32c: checksum } = record;
  return { index, term, membership, sizeBytes, crc32c: checksum };
}

async function* readChunks(engine: KeyValueStore, record: SnapshotRecord): AsyncGenerator<Uint8Array> {
  let chunkNumber = 0;
  let sizeBytes = 0;
  let checksum = 0;
  for await (const [, value] of rangeStoredRecords(engine, snapshotChunkRange(record.index), `the chunks of the snapshot at index ${record.index}`)) {
    const where = recordIn(engine, `snapshot at index ${record.index} chunk ${chunkNumber}`);
    const payload = verifyChecksummedValue(value, where);
    const storedNumber = payload.byteLength >= chunkNumberBytes ? new DataView(payload.buffer, payload.byteOffset).getUint32(0) : undefined;
    if (storedNumber !== chunkNumber) throw corruptRecord(where, `the chunk is missing (the next stored one is ${storedNumber ?? 'unnumbered'})`);
    const data = payload.subarray(chunkNumberBytes);
    checksum = crc32c(data, checksum);
    sizeBytes += data.byteLength;
    chunkNumber += 1;
    yield data;
  }
  if (chunkNumber !== record.chunkCount || sizeBytes !== record.sizeBytes || checksum !== record.crc32c) {
    throw corruptRecord(
      recordIn(engine, `snapshot at index ${record.index}`),
      `read ${chunkNumber} chunks, ${sizeBytes} bytes, CRC-32C ${checksum}; ` +
        `the metadata says ${record.chunkCount}, ${record.sizeBytes}, ${record.crc32c}`,
    );
  }
}

function assertMetadata(metadata: SnapshotMetadata): void {
  const parsed = recordSchema.pick({ index: true, term: true, membership: true }).safeParse(metadata);
  assert.ok(parsed.success, `snapshot metadata must have safe non-negative index, term and node ids, got ${JSON.stringify(metadata)}`);
}
