import { TributaryError } from '../errors/index.js';

/*
 * Which partition a record goes to. A record with an explicit partition goes there; a keyed
 * record goes to `toPositive(murmur2(key)) % partitions`, the hash and formula of Apache Kafka's
 * default partitioner, so a key lands on the same partition here as from a Kafka client (and
 * stays there as long as the partition count does not change); a record without a key sticks to
 * one partition until the batch it joined is closed, then moves to the next (Kafka's sticky
 * partitioner, KIP-480): spreading keyless records one by one would make many tiny batches.
 */

const murmur2Seed = 0x9747b28c;
const murmur2Multiplier = 0x5bd1e995;

/** Kafka's `Utils.murmur2`: MurmurHash2, 32-bit, little-endian 4-byte blocks, as a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (murmur2Seed ^ length) | 0;
  const blocks = length >>> 2;
  for (let block = 0; block < blocks; block++) {
    const at = block * 4;
    let k = ((data[at] ?? 0) | ((data[at + 1] ?? 0) << 8) | ((data[at + 2] ?? 0) << 16) | ((data[at + 3] ?? 0) << 24)) | 0;
    k = Math.imul(k, murmur2Multiplier);
    k ^= k >>> 24;
    k = Math.imul(k, murmur2Multiplier);
    h = Math.imul(h, murmur2Multiplier) ^ k;
  }
  const tail = blocks * 4;
  const remaining = length & 3;
  // The tail bytes fall through from the highest, as the C switch without breaks does.
  if (remaining === 3) h ^= (data[tail + 2] ?? 0) << 16;
  if (remaining >= 2) h ^= (data[tail + 1] ?? 0) << 8;
  if (remaining >= 1) {
    h ^= data[tail] ?? 0;
    h = Math.imul(h, murmur2Multiplier);
  }
  h ^= h >>> 13;
  h = Math.imul(h, murmur2Multiplier);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed record among `partitions`: Kafka's `toPositive(murmur2(key)) % n`. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  checkPartitionCount(partitions);
  return (murmur2(key) & 0x7fffffff) % partitions;
}

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

function checkPartitionCount(partitions: number): void {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`a topic has at least one partition, got ${partitions}`);
}
