import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordAccumulator } from '../../../src/client/record-accumulator.js';

const limits = { batchBytesMax: 100, batchRecordsMax: 3, lingerMs: 10 };

describe('the record accumulator', () => {
  it('cuts a batch before a record would take it past batchBytesMax, and sends a larger record alone', () => {
    const accumulator = new RecordAccumulator<string>(limits);
    expect(accumulator.append('t', 0, 'a', 60, 0)).toBe(false);
    expect(accumulator.append('t', 0, 'b', 60, 0)).toBe(true);
    expect(accumulator.append('t', 0, 'huge', 500, 1)).toBe(true);
    const taken = [0, 1, 2].map(() => accumulator.takeReady('t', 0, 1, false)?.items);
    expect(taken).toEqual([['a'], ['b'], ['huge']]);
    expect(accumulator.isEmpty).toBe(true);
  });

  it('cuts a batch at batchRecordsMax records', () => {
    const accumulator = new RecordAccumulator<number>(limits);
    const closed = [1, 2, 3, 4].map((item) => accumulator.append('t', 1, item, 1, 0));
    expect(closed).toEqual([false, false, true, false]);
    expect(accumulator.takeReady('t', 1, 0, false)).toMatchObject({ topic: 't', partition: 1, items: [1, 2, 3], sizeBytes: 3, createdAtMs: 0 });
    expect(accumulator.takeReady('t', 1, 0, false)).toBeUndefined();
  });

  it('holds an open batch for lingerMs after its first record, unless flushing', () => {
    const accumulator = new RecordAccumulator<string>(limits);
    accumulator.append('t', 0, 'a', 1, 100);
    accumulator.append('t', 0, 'b', 1, 105);
    expect(accumulator.nextLingerDeadlineMs()).toBe(110);
    expect(accumulator.takeReady('t', 0, 109, false)).toBeUndefined();
    expect(accumulator.takeReady('t', 0, 109, true)?.items).toEqual(['a', 'b']);
    accumulator.append('t', 0, 'c', 1, 200);
    expect(accumulator.takeReady('t', 0, 210, false)?.items).toEqual(['c']);
    expect(accumulator.nextLingerDeadlineMs()).toBeUndefined();
  });

  it('leaves partitions with a request in flight out of the next linger deadline', () => {
    const accumulator = new RecordAccumulator<string>(limits);
    accumulator.append('t', 0, 'a', 1, 0);
    accumulator.append('t', 1, 'b', 1, 5);
    expect(accumulator.nextLingerDeadlineMs((_, partition) => partition === 0)).toBe(15);
    expect(accumulator.partitions()).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
  });

  it('gives back every record exactly once, in append order per partition, within the bounds', () => {
    const appends = fc.array(fc.record({ partition: fc.integer({ min: 0, max: 2 }), sizeBytes: fc.integer({ min: 1, max: 150 }) }), { maxLength: 60 });
    fc.assert(fc.property(appends, (records) => {
      const accumulator = new RecordAccumulator<number>(limits);
      records.forEach((record, index) => accumulator.append('t', record.partition, index, record.sizeBytes, index));
      for (const partition of [0, 1, 2]) {
        const batches = [];
        for (let batch = accumulator.takeReady('t', partition, 0, true); batch !== undefined; batch = accumulator.takeReady('t', partition, 0, true)) batches.push(batch);
        expect(batches.flatMap((batch) => batch.items)).toEqual(records.flatMap((record, index) => (record.partition === partition ? [index] : [])));
        for (const batch of batches) {
          expect(batch.items.length).toBeLessThanOrEqual(limits.batchRecordsMax);
          if (batch.items.length > 1) expect(batch.sizeBytes).toBeLessThanOrEqual(limits.batchBytesMax);
        }
      }
      expect(accumulator.isEmpty).toBe(true);
    }));
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => new RecordAccumulator({ ...limits, batchBytesMax: 0 })).toThrow('batchBytesMax must be a positive integer, got 0');
    expect(() => new RecordAccumulator({ ...limits, lingerMs: -1 })).toThrow('lingerMs must be a non-negative integer, got -1');
  });
});
