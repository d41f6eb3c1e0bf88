/*
 * The partition of a keyed record: `toPositive(murmur2(key)) % partitions`, the hash and formula
 * of Apache Kafka's default partitioner, so a key lands on the same partition here as from a
 * Kafka client. Shared by the SDK's producer and the brokers' ingest placement (a device's upload
 * sessions go where its keyed records would).
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

export function checkPartitionCount(partitions: number): void {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`a topic has at least one partition, got ${partitions}`);
}
