import assert from 'node:assert/strict';

/** One partition of one topic: the unit a partition log, its producer state and its keys belong to. */
export interface PartitionId {
  readonly topic: string;
  /** Zero-based partition index within the topic. */
  readonly partition: number;
}

/** Kafka's limit, so topic names stay portable between the two systems and keys stay short. */
export const topicNameBytesMax = 249;
/** Partition indices are encoded as 4 bytes in keys; Kafka's int32 bound. */
export const partitionIndexMax = 2 ** 31 - 1;

const utf8 = new TextEncoder();

/** `t-3`: how logs and errors name a partition, as Kafka does. */
export function formatPartition(id: PartitionId): string {
  return `${id.topic}-${id.partition}`;
}

export function assertPartitionId(id: PartitionId): void {
  const topicBytes = utf8.encode(id.topic).byteLength;
  assert.ok(
    topicBytes > 0 && topicBytes <= topicNameBytesMax,
    `topic name must be 1 to ${topicNameBytesMax} UTF-8 bytes, got ${topicBytes} ("${id.topic}")`,
  );
  assert.ok(
    Number.isSafeInteger(id.partition) && id.partition >= 0 && id.partition <= partitionIndexMax,
    `partition index must be an integer from 0 to ${partitionIndexMax}, got ${id.partition}`,
  );
}
