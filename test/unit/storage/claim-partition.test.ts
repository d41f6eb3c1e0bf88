import { describe, expect, it } from 'vitest';
import { claimPartition, GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type StoredBatch } from '../../../src/storage/index.js';

const orders = { topic: 'orders', partition: 2 };
const other = { topic: 'orders', partition: 3 };
const batch: StoredBatch = { recordCount: 2, partitionLeaderEpoch: 1, firstTimestampMs: 1, maxTimestampMs: 1, payload: new Uint8Array(16) };

async function storeWithData() {
  const engine = new MemoryKeyValueStore();
  const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
  for (const id of [orders, other]) {
    await claimPartition(engine, writer, id, 'first');
    const log = await openPartitionLog(engine, writer, id);
    await log.append(batch);
    await log.append(batch);
    await log.advanceLogStartOffset(2);
  }
  return { engine, writer };
}

describe('claimPartition', () => {
  it('stamps a new partition, and keeps the data of the same incarnation', async () => {
    const { engine, writer } = await storeWithData();
    expect(await claimPartition(engine, writer, orders, 'first')).toBe('same');
    const log = await openPartitionLog(engine, writer, orders);
    expect([log.logStartOffset(), log.logEndOffset()]).toEqual([2, 4]);
  });

  it('discards every record of another incarnation of the topic, and only of that partition', async () => {
    const { engine, writer } = await storeWithData();
    // One batch and its summary, the log start and one epoch checkpoint remain of orders-2.
    expect(await claimPartition(engine, writer, orders, 'second')).toEqual({ discardedTopicId: 'first', discardedKeys: 4 });
    const log = await openPartitionLog(engine, writer, orders);
    expect([log.logStartOffset(), log.logEndOffset(), log.leaderEpochCheckpoints()]).toEqual([0, 0, []]);
    expect(await claimPartition(engine, writer, orders, 'second')).toBe('same');
    const untouched = await openPartitionLog(engine, writer, other);
    expect([untouched.logStartOffset(), untouched.logEndOffset()]).toEqual([2, 4]);
  });
});
