import { describe, expect, it } from 'vitest';
import { producerBatchesCachedMax } from '../../../src/broker/index.js';
import type { BatchSummary } from '../../../src/storage/index.js';
import { retiredBatchesPerProducerMax, retiredProducersMax, retireProducerBatches } from '../../../src/storage/retired-producer-batches.js';

const summary = (baseOffset: number, producerId?: number, maxTimestampMs = baseOffset): BatchSummary => ({
  baseOffset, lastOffset: baseOffset, maxTimestampMs, storedBytes: 100,
  producer: producerId === undefined ? undefined : { producerId, producerEpoch: 0, baseSequence: baseOffset },
});

describe('retired producer batches', () => {
  it('keep at least the batches a retry can be of', () => {
    expect(retiredBatchesPerProducerMax).toBeGreaterThanOrEqual(producerBatchesCachedMax);
  });

  it('keep the newest batches of each producer, in offset order, and nothing of producers that are not idempotent', () => {
    const removed = Array.from({ length: 12 }, (_, offset) => summary(offset, offset % 3 === 2 ? undefined : 1 + (offset % 3)));
    const retired = retireProducerBatches([], removed);
    expect(retired.map((kept) => [kept.baseOffset, kept.producer?.producerId])).toEqual([
      [0, 1], [1, 2], [3, 1], [4, 2], [6, 1], [7, 2], [9, 1], [10, 2],
    ]);
    const later = retireProducerBatches(retired, [summary(20, 1), summary(21, 1), summary(22, 1), summary(23, 1)]);
    expect(later.filter((kept) => kept.producer?.producerId === 1).map((kept) => kept.baseOffset)).toEqual([9, 20, 21, 22, 23]);
  });

  it('keep at most retiredProducersMax producers, dropping those whose last batch is oldest', () => {
    const removed = Array.from({ length: retiredProducersMax + 2 }, (_, index) => summary(index, index + 1, index === 0 ? 10 ** 9 : index));
    const retired = retireProducerBatches([], removed);
    expect(retired).toHaveLength(retiredProducersMax);
    expect(retired.map((kept) => kept.producer?.producerId)).not.toContain(2);
    expect(retired.map((kept) => kept.producer?.producerId)).toContain(1);
  });
});
