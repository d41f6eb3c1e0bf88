import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { GroupCommitWriter } from '../../../src/storage/group-commit-writer.js';
import { openPartitionLog } from '../../../src/storage/key-value-partition-log.js';
import type { KeyValueStore } from '../../../src/storage/key-value-store.js';
import type { PartitionId } from '../../../src/storage/partition-id.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { partitionBatchKey, partitionBatchSummaryKey } from '../../../src/storage/storage-keys.js';
import type { StorageWriter } from '../../../src/storage/storage-writer.js';
import { type StoredBatch, storedBatchOverheadBytes } from '../../../src/storage/stored-batch.js';
import { type EngineHandle, engineKinds, failureOf, flipStoredByte, rejectionOf } from '../../support/storage-engines.js';

const partition: PartitionId = { topic: 't', partition: 3 };

function batch(recordCount: number, options: { epoch?: number; timestampMs?: number; payloadBytes?: number } = {}): StoredBatch {
  const timestampMs = options.timestampMs ?? 1_000;
  return {
    recordCount,
    partitionLeaderEpoch: options.epoch ?? 1,
    firstTimestampMs: timestampMs,
    maxTimestampMs: timestampMs + recordCount,
    producer: { producerId: 7, producerEpoch: 2, baseSequence: 40 },
    payload: new Uint8Array(options.payloadBytes ?? 10).fill(recordCount),
  };
}

async function baseOffsetsFrom(log: PartitionLog, fromOffset: number): Promise<number[]> {
  return (await log.read(fromOffset, Number.MAX_SAFE_INTEGER)).map((item) => item.baseOffset);
}

describe.each(engineKinds)('PartitionLog on $name', (kind) => {
  let handle: EngineHandle;

  afterEach(async () => {
    await handle.dispose();
  });

  async function openLog(): Promise<PartitionLog> {
    handle = await kind.open();
    return openPartitionLog(handle.engine, handle.writer, partition);
  }

  /** A log holding batches of 3, 2 and 4 records: offsets 0-2, 3-4 and 5-8. */
  async function openFilledLog(): Promise<PartitionLog> {
    const log = await openLog();
    for (const recordCount of [3, 2, 4]) await log.append(batch(recordCount));
    return log;
  }

  it('appends at the next offset and reads back every field', async () => {
    const log = await openLog();
    expect([log.logStartOffset(), log.logEndOffset(), await log.read(0, 100)]).toEqual([0, 0, []]);
    expect(await log.append(batch(3))).toEqual({ baseOffset: 0, lastOffset: 2 });
    expect(await log.append(batch(2))).toEqual({ baseOffset: 3, lastOffset: 4 });
    const [first, second] = await log.read(0, 1_000);
    expect(first).toEqual({ ...batch(3), baseOffset: 0, lastOffset: 2 });
    expect(second).toMatchObject({ baseOffset: 3, lastOffset: 4, recordCount: 2 });
    expect([log.logEndOffset(), log.sizeBytes()]).toEqual([5, 2 * (storedBatchOverheadBytes + 10)]);
  });

  it('reads from the batch holding the offset, within maxBytes but at least one batch', async () => {
    const log = await openFilledLog();
    expect(await baseOffsetsFrom(log, 4)).toEqual([3, 5]);
    expect((await log.read(0, 1)).map((item) => item.baseOffset)).toEqual([0]);
    expect((await log.read(0, 2 * (storedBatchOverheadBytes + 10))).map((item) => item.baseOffset)).toEqual([0, 3]);
    expect(await log.read(9, 100)).toEqual([]);
  });

  it('names the valid range when an offset is out of it', async () => {
    const log = await openFilledLog();
    const error = await rejectionOf(() => log.read(10, 100));
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({
      code: 'OFFSET_OUT_OF_RANGE',
      message: 'partition "t-3": cannot read from offset 10; valid offsets are 0 (log start) to 9 (log end)',
    });
  });

  it('takes a follower append only at the log end offset', async () => {
    const log = await openFilledLog();
    await expect(log.append(batch(1), { baseOffset: 8 })).rejects.toMatchObject({
      code: 'OFFSET_MISMATCH',
      message: 'partition "t-3": a batch at base offset 8 cannot be appended; the next offset is 9',
    });
    expect(await log.append(batch(1), { baseOffset: 9 })).toEqual({ baseOffset: 9, lastOffset: 9 });
  });

  it('gives concurrent appends contiguous offsets in call order', async () => {
    const log = await openLog();
    const appended = await Promise.all([1, 2, 3, 4].map((recordCount) => log.append(batch(recordCount))));
    expect(appended.map((item) => item.baseOffset)).toEqual([0, 1, 3, 6]);
    expect([log.logEndOffset(), await baseOffsetsFrom(log, 0)]).toEqual([10, [0, 1, 3, 6]]);
  });

  it('lets concurrent appends share the group commit of a GroupCommitWriter', async () => {
    handle = await kind.open();
    const engine = handle.engine;
    let syncedWrites = 0;
    const countingEngine: KeyValueStore = {
      location: engine.location,
      get: (key) => engine.get(key),
      range: (range) => engine.range(range),
      write: (operations, options) => {
        if (options.sync) syncedWrites += 1;
        return engine.write(operations, options);
      },
      close: () => engine.close(),
    };
    const writer = new GroupCommitWriter(countingEngine, { durability: 'fsync' });
    const log = await openPartitionLog(engine, writer, partition);
    const appendCount = 64;
    const appended = await Promise.all(Array.from({ length: appendCount }, () => log.append(batch(2))));
    expect(appended.map((item) => item.baseOffset)).toEqual(Array.from({ length: appendCount }, (_, position) => 2 * position));
    expect(syncedWrites).toBeLessThan(appendCount);
    expect((await log.read(0, Number.MAX_SAFE_INTEGER)).length).toBe(appendCount);
    await writer.close();
  });

  it('reports a corrupted batch as CORRUPT_RECORD naming partition and offset, without its bytes', async () => {
    const log = await openFilledLog();
    await flipStoredByte(handle.engine, partitionBatchKey(partition, 3), storedBatchOverheadBytes + 2);
    const error = await rejectionOf(() => log.read(0, 1_000));
    expect(error).toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(error.message).toContain(`partition "t-3" offset 3 in ${handle.engine.location}: `);
    expect(error.message).toMatch(/^partition "t-3" offset 3 in [^:]+: stored CRC-32C 0x[0-9a-f]{8} does not match the bytes \(0x[0-9a-f]{8}\)/);
    expect(error.message).toContain('the record is not returned');
    expect(await baseOffsetsFrom(log, 5)).toEqual([5]);
  });

  it('truncates whole batches, the epoch checkpoints above them, and appends after', async () => {
    const log = await openLog();
    await log.append(batch(3, { epoch: 1 }));
    await log.append(batch(2, { epoch: 2 }));
    await log.append(batch(4, { epoch: 3 }));
    expect(await log.truncateTo(4)).toBe(3);
    expect([log.logEndOffset(), await baseOffsetsFrom(log, 0), log.leaderEpochCheckpoints()]).toEqual([3, [0], [{ epoch: 1, startOffset: 0 }]]);
    expect(await log.truncateTo(7)).toBe(3);
    expect(await log.append(batch(1, { epoch: 4 }))).toEqual({ baseOffset: 3, lastOffset: 3 });
    expect(log.leaderEpochCheckpoints()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 3 }]);
  });

  it('advances the log start offset, keeping the batch that holds it', async () => {
    const log = await openFilledLog();
    await log.advanceLogStartOffset(4);
    await log.advanceLogStartOffset(2);
    expect([log.logStartOffset(), await baseOffsetsFrom(log, 4)]).toEqual([4, [3, 5]]);
    await expect(log.read(3, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(log.truncateTo(2)).rejects.toMatchObject({
      message: 'partition "t-3": cannot truncate to offset 2; valid offsets are 4 (log start) to 9 (log end)',
    });
    expect(await log.truncateTo(4)).toBe(4);
    expect([log.logStartOffset(), log.logEndOffset(), log.sizeBytes()]).toEqual([4, 4, 0]);
  });

  it('empties the log and restarts it when the log start passes the log end', async () => {
    const log = await openFilledLog();
    await log.advanceLogStartOffset(20);
    expect([log.logStartOffset(), log.logEndOffset(), log.sizeBytes(), log.leaderEpochCheckpoints()]).toEqual([20, 20, 0, []]);
    expect(await log.append(batch(2, { epoch: 5 }))).toEqual({ baseOffset: 20, lastOffset: 21 });
  });

  it('deletes whole batches older than retentionMs, up to the offset limit', async () => {
    const log = await openLog();
    for (const timestampMs of [100, 200, 300, 150]) await log.append(batch(2, { timestampMs }));
    const request = { nowMs: 1_250, retentionMs: 1_000 };
    const batchBytes = storedBatchOverheadBytes + 10;
    expect(await log.enforceRetention({ ...request, offsetLimit: 3 })).toEqual({ deletedBatches: 1, deletedBytes: batchBytes, logStartOffset: 2 });
    // The batch at 4 is young enough, so the older one after it stays: time retention takes a prefix.
    expect(await log.enforceRetention(request)).toEqual({ deletedBatches: 1, deletedBytes: batchBytes, logStartOffset: 4 });
    expect(await baseOffsetsFrom(log, 4)).toEqual([4, 6]);
  });

  it('deletes the oldest batches while the log stays at least retentionBytes', async () => {
    const log = await openLog();
    for (let count = 0; count < 5; count++) await log.append(batch(1, { payloadBytes: 100 }));
    const batchBytes = storedBatchOverheadBytes + 100;
    const result = await log.enforceRetention({ nowMs: 0, retentionBytes: 2 * batchBytes + 1 });
    expect(result).toEqual({ deletedBatches: 2, deletedBytes: 2 * batchBytes, logStartOffset: 2 });
    expect([log.sizeBytes(), await baseOffsetsFrom(log, 2)]).toEqual([3 * batchBytes, [2, 3, 4]]);
    expect(await log.enforceRetention({ nowMs: 0 })).toMatchObject({ deletedBatches: 0 });
  });

  it('answers OffsetsForLeaderEpoch as Kafka does', async () => {
    const log = await openLog();
    expect(log.endOffsetForEpoch(1)).toBeUndefined();
    await log.append(batch(3, { epoch: 2 }));
    await log.append(batch(2, { epoch: 2 }));
    await log.append(batch(4, { epoch: 5 }));
    expect(log.leaderEpochCheckpoints()).toEqual([{ epoch: 2, startOffset: 0 }, { epoch: 5, startOffset: 5 }]);
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 9 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 5 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 2, endOffset: 5 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 0 });
    expect(log.endOffsetForEpoch(6)).toBeUndefined();
    await expect(log.append(batch(1, { epoch: 4 }))).rejects.toMatchObject({
      code: 'STALE_EPOCH',
      message: 'partition "t-3": a batch of leader epoch 4 cannot follow epoch 5 (from offset 5)',
    });
  });

  it('moves the epoch that covers a new log start offset to start there', async () => {
    const log = await openLog();
    await log.append(batch(3, { epoch: 1 }));
    await log.append(batch(2, { epoch: 2 }));
    await log.append(batch(4, { epoch: 3 }));
    await log.advanceLogStartOffset(4);
    expect(log.leaderEpochCheckpoints()).toEqual([{ epoch: 2, startOffset: 4 }, { epoch: 3, startOffset: 5 }]);
  });

  it('refuses to open a log whose first batches are missing', async () => {
    await openFilledLog();
    await handle.engine.write(
      [
        { type: 'del', key: partitionBatchKey(partition, 0) },
        { type: 'del', key: partitionBatchSummaryKey(partition, 0) },
      ],
      { sync: true },
    );
    const error = await rejectionOf(() => openPartitionLog(handle.engine, handle.writer, partition));
    expect(error).toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(error.message).toContain(`partition "t-3" offset 0 in ${handle.engine.location}: the batch is missing (the log starts at 0 but the first stored batch at 3)`);
  });

  it('keeps everything across a restart', async () => {
    const log = await openLog();
    await log.append(batch(3, { epoch: 1 }));
    await log.append(batch(2, { epoch: 2 }));
    await log.append(batch(4, { epoch: 3 }));
    await log.advanceLogStartOffset(1);
    await log.truncateTo(6);
    handle = await handle.reopen();
    const reopened = await openPartitionLog(handle.engine, handle.writer, partition);
    expect([reopened.logStartOffset(), reopened.logEndOffset(), reopened.sizeBytes()]).toEqual([1, 5, log.sizeBytes()]);
    expect(reopened.leaderEpochCheckpoints()).toEqual([{ epoch: 1, startOffset: 1 }, { epoch: 2, startOffset: 3 }]);
    expect(await baseOffsetsFrom(reopened, 1)).toEqual([0, 3]);
  });

  it('keeps partitions apart, including topics whose names prefix each other', async () => {
    const log = await openFilledLog();
    const neighbour = await openPartitionLog(handle.engine, handle.writer, { topic: 't-3', partition: 3 });
    await neighbour.append(batch(1));
    expect([log.logEndOffset(), neighbour.logEndOffset(), await baseOffsetsFrom(neighbour, 0)]).toEqual([9, 1, [0]]);
  });

  it('refuses writes after a failed write until reopened', async () => {
    handle = await kind.open();
    let failing = false;
    const writer: StorageWriter = {
      write: (operations) => (failing ? Promise.reject(new Error('disk full')) : handle.writer.write(operations)),
    };
    const log = await openPartitionLog(handle.engine, writer, partition);
    await log.append(batch(1));
    failing = true;
    await expect(log.append(batch(1))).rejects.toThrow('disk full');
    failing = false;
    expect(await failureOf(() => log.append(batch(1)))).toBe(
      'NOT_AVAILABLE: partition "t-3" refuses writes after a failed write (disk full); reopen it to recover',
    );
    expect([log.logEndOffset(), (await openPartitionLog(handle.engine, handle.writer, partition)).logEndOffset()]).toEqual([1, 1]);
  });
});
