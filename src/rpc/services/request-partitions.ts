import { TributaryError } from '../../errors/index.js';
import { formatPartition } from '../../storage/index.js';
import type { TopicPartition } from '../generated/tributary/common/v1/common.js';

/** Where a request names its partitions, for the messages: `ProduceBatch` and `partition_batches`. */
export interface PartitionsField {
  readonly method: string;
  readonly field: string;
}

/**
 * The partitions a multi-partition request names, checked as the contract says: at least one, at
 * most `partitionsMax`, each set and at most once. A breach fails the whole call with
 * INVALID_REQUEST naming the field and the value; per-partition results are for everything else.
 */
export function checkRequestPartitions(where: PartitionsField, topicPartitions: ReadonlyArray<TopicPartition | undefined>, partitionsMax: number): TopicPartition[] {
  const { method, field } = where;
  if (topicPartitions.length === 0) throw new TributaryError('INVALID_REQUEST', `${method} needs at least one entry in ${field}`);
  if (topicPartitions.length > partitionsMax) {
    throw new TributaryError('INVALID_REQUEST', `${method} names ${topicPartitions.length} partitions in ${field}; the limit is ${partitionsMax}, so split the request`);
  }
  const seen = new Set<string>();
  return topicPartitions.map((topicPartition, position) => {
    if (topicPartition === undefined) throw new TributaryError('INVALID_REQUEST', `${method} ${field}[${position}] has no topic_partition`);
    const name = formatPartition(topicPartition);
    if (seen.has(name)) throw new TributaryError('INVALID_REQUEST', `${method} names partition "${name}" twice in ${field}; name each partition at most once`);
    seen.add(name);
    return topicPartition;
  });
}
