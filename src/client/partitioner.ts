import { checkPartitionCount } from '../broker/partition-for-key.js';
import { TributaryError } from '../errors/index.js';

export { murmur2, partitionForKey } from '../broker/partition-for-key.js';

/*
 * Which partition a record goes to. A record with an explicit partition goes there; a keyed
 * record goes to `toPositive(murmur2(key)) % partitions`, the hash and formula of Apache Kafka's
 * default partitioner, so a key lands on the same partition here as from a Kafka client (and
 * stays there as long as the partition count does not change); a record without a key sticks to
 * one partition until the batch it joined is closed, then moves to the next (Kafka's sticky
 * partitioner, KIP-480): spreading keyless records one by one would make many tiny batches.
 */

/** Where keyless records of each topic go now; topics tracked at most `topicsMax` (then the oldest is forgotten). */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();
  private counter: number;

  /** `start` spreads producers that start together over different first partitions. */
  constructor(start: number, private readonly topicsMax = 10_000) {
    this.counter = Math.abs(Math.trunc(start));
  }

  /** The partition a keyless record of `topic` joins now. */
  partitionFor(topic: string, partitions: number): number {
    checkPartitionCount(partitions);
    const sticky = this.current.get(topic);
    if (sticky !== undefined && sticky < partitions) return sticky;
    return this.next(topic, partitions);
  }

  /** Called when the batch keyless records were joining closes: later ones go to the next partition. */
  batchClosed(topic: string, partition: number): void {
    if (this.current.get(topic) === partition) this.current.delete(topic);
  }

  private next(topic: string, partitions: number): number {
    const partition = this.counter % partitions;
    this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER;
    this.current.delete(topic);
    if (this.current.size >= this.topicsMax) {
      const oldest = this.current.keys().next().value;
      if (oldest !== undefined) this.current.delete(oldest);
    }
    this.current.set(topic, partition);
    return partition;
  }
}

/** An explicit partition must exist: the error names the topic, its partition count and the bad value. */
export function checkPartition(topic: string, partition: number, partitions: number): number {
  if (!Number.isSafeInteger(partition) || partition < 0 || partition >= partitions) {
    throw new TributaryError('PARTITION_NOT_FOUND', `topic "${topic}" has ${partitions} partition${partitions === 1 ? '' : 's'}; partition ${partition} does not exist`);
  }
  return partition;
}

