import { describe, expect, it } from 'vitest';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type StoredBatch } from '../../../src/storage/index.js';
import { GatedWriter } from '../../support/gated-writer.js';

const batch = (recordCount: number, payloadBytes = 10): StoredBatch => ({
  recordCount, partitionLeaderEpoch: 1, firstTimestampMs: 1_000, maxTimestampMs: 1_000, payload: new Uint8Array(payloadBytes).fill(recordCount),
});

async function gatedLog() {
  const engine = new MemoryKeyValueStore();
  const writer = new GatedWriter(new GroupCommitWriter(engine, { durability: 'fsync' }));
  const log = await openPartitionLog(engine, writer, { topic: 't', partition: 0 });
  return { log, writer };
}

describe('reading appends that are not durable yet', () => {
  it('serves them only when asked, after the durable ones, contiguous and within the budget', async () => {
    const { log, writer } = await gatedLog();
    writer.open();
    await log.append(batch(2));
    writer.close();
    const pending = [log.append(batch(3)), log.append(batch(1, 50))];
    await new Promise((resolve) => setImmediate(resolve));
    expect([log.logEndOffset(), log.appendedEndOffset()]).toEqual([2, 6]);
    expect((await log.read(0, 1_000)).map((read) => read.baseOffset)).toEqual([0]);
    expect((await log.read(0, 1_000, { unsynced: true })).map((read) => read.baseOffset)).toEqual([0, 2, 5]);
    // From inside the unsynced part, and with a budget that holds only the first of them.
    expect((await log.read(2, 20, { unsynced: true })).map((read) => read.baseOffset)).toEqual([2]);
    expect((await log.read(5, 1, { unsynced: true })).map((read) => read.baseOffset)).toEqual([5]);
    expect(await log.read(6, 1_000, { unsynced: true })).toEqual([]);
    await expect(log.read(7, 1_000, { unsynced: true })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(log.read(3, 1_000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 6 });
    writer.open();
    expect(await Promise.all(pending)).toEqual([{ baseOffset: 2, lastOffset: 4 }, { baseOffset: 5, lastOffset: 5 }]);
    expect((await log.read(0, 1_000)).map((read) => read.baseOffset)).toEqual([0, 2, 5]);
  });
});
