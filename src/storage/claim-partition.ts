import { z } from 'zod';
import type { KeyValueOperation, KeyValueStore } from './key-value-store.js';
import { packValue, unpackValue } from './packed-value.js';
import { formatPartition, type PartitionId } from './partition-id.js';
import { partitionDataRanges, partitionTopicIdKey } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';

const topicIdSchema = z.object({ topicId: z.string().min(1) });

/** Deletes are written in batches of this many keys, so discarding a large log never builds one huge WriteBatch. */
export const discardBatchKeysMax = 10_000;

/** What claiming found. */
export type PartitionClaim = 'new' | 'same' | { readonly discardedTopicId: string; readonly discardedKeys: number };

/**
 * Makes `partition`'s data belong to the topic incarnation `topicId` before its log is opened.
 * A topic deleted and created again keeps its name but gets a new id, and a broker that was down
 * meanwhile still holds the old incarnation's records under that name: they are deleted here, so
 * the new topic never serves them. Data found with no id stamped yet is taken as this topic's.
 */
export async function claimPartition(engine: KeyValueStore, writer: StorageWriter, partition: PartitionId, topicId: string): Promise<PartitionClaim> {
  const record = `partition "${formatPartition(partition)}" topic id`;
  const stored = await getStoredRecord(engine, partitionTopicIdKey(partition), record);
  const storedId = stored === undefined ? undefined : unpackValue(stored, topicIdSchema, recordIn(engine, record)).topicId;
  if (storedId === topicId) return 'same';
  const discardedKeys = storedId === undefined ? 0 : await discardPartitionData(engine, writer, partition);
  await writer.write([{ type: 'put', key: partitionTopicIdKey(partition), value: packValue({ topicId }) }]);
  return storedId === undefined ? 'new' : { discardedTopicId: storedId, discardedKeys };
}

/** Deletes in rounds of at most discardBatchKeysMax keys, each round scanning afresh: no iterator lives across a write. */
async function discardPartitionData(engine: KeyValueStore, writer: StorageWriter, partition: PartitionId): Promise<number> {
  let deleted = 0;
  const name = `partition "${formatPartition(partition)}" data`;
  for (const range of partitionDataRanges(partition)) {
    for (;;) {
      const operations: KeyValueOperation[] = [];
      for await (const [key] of rangeStoredRecords(engine, { ...range, limit: discardBatchKeysMax }, name)) operations.push({ type: 'del', key });
      if (operations.length === 0) break;
      await writer.write(operations);
      deleted += operations.length;
    }
  }
  return deleted;
}
