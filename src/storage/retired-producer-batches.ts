import { z } from 'zod';
import type { BatchSummary } from './batch-index.js';
import { safeNonNegativeInteger } from './packed-value.js';

/*
 * What a partition keeps of idempotent producers' batches after retention deleted them (Kafka
 * keeps producer snapshots for the same reason). A leader rebuilds its producers from the batch
 * summaries; without this, a producer all of whose batches retention deleted would be forgotten,
 * and the retry of a committed batch whose answer was lost, reaching a new leader, would be
 * written a second time (the simulator found it). Every replica retires the summaries it deletes,
 * in the same write, so whichever replica leads next knows the same producers.
 */

/**
 * Batches kept per producer: at least the broker's producerBatchesCachedMax (5), the batches a
 * retry can be of (a unit test holds the two together).
 */
export const retiredBatchesPerProducerMax = 5;
/** Producers kept; beyond it those whose last batch is oldest go first. */
export const retiredProducersMax = 10_000;

/** How the retired summaries are stored (key 16): checksummed msgpack of this shape. */
export const retiredProducerBatchesSchema = z.array(z.strictObject({
  baseOffset: safeNonNegativeInteger,
  lastOffset: safeNonNegativeInteger,
  maxTimestampMs: safeNonNegativeInteger,
  producerId: safeNonNegativeInteger,
  producerEpoch: safeNonNegativeInteger,
  baseSequence: safeNonNegativeInteger,
}));

/** The retired summaries after `removed` (oldest first) left the log: the newest per producer, in offset order. */
export function retireProducerBatches(retired: readonly BatchSummary[], removed: readonly BatchSummary[]): BatchSummary[] {
  const byProducer = new Map<number, BatchSummary[]>();
  for (const summary of [...retired, ...removed]) {
    if (summary.producer === undefined) continue;
    const batches = byProducer.get(summary.producer.producerId) ?? [];
    batches.push({ ...summary, storedBytes: 0 });
    byProducer.set(summary.producer.producerId, batches.slice(-retiredBatchesPerProducerMax));
  }
  const newestFirst = [...byProducer.values()].sort((left, right) => lastTimestampMs(right) - lastTimestampMs(left));
  return newestFirst.slice(0, retiredProducersMax).flat().sort((left, right) => left.baseOffset - right.baseOffset);
}

export function encodeRetiredProducerBatches(retired: readonly BatchSummary[]): unknown {
  return retired.map(({ baseOffset, lastOffset, maxTimestampMs, producer }) => ({ baseOffset, lastOffset, maxTimestampMs, ...producer }));
}

export function retiredProducerBatchesFrom(decoded: z.infer<typeof retiredProducerBatchesSchema>): BatchSummary[] {
  return decoded.map(({ baseOffset, lastOffset, maxTimestampMs, producerId, producerEpoch, baseSequence }) => ({
    baseOffset, lastOffset, maxTimestampMs, storedBytes: 0, producer: { producerId, producerEpoch, baseSequence },
  }));
}

function lastTimestampMs(batches: readonly BatchSummary[]): number {
  return batches.at(-1)?.maxTimestampMs ?? 0;
}
