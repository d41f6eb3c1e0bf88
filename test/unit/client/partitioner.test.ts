import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPartition, murmur2, partitionForKey, StickyPartitioner } from '../../../src/client/partitioner.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('key partitioning', () => {
  it("hashes keys exactly as Kafka's Utils.murmur2 does (UtilsTest.testMurmur2's vectors)", () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    expect(vectors.map(([key]) => murmur2(bytes(key)))).toEqual(vectors.map(([, hash]) => hash));
  });

  it("places a key where Kafka's default partitioner does: toPositive(murmur2) % partitions", () => {
    expect(partitionForKey(bytes('21'), 10)).toBe((-973932308 & 0x7fffffff) % 10);
    expect(partitionForKey(bytes('abc'), 7)).toBe(479470107 % 7);
  });

  it('puts every key on an existing partition, the same one every time', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 10_000 }), (key, partitions) => {
      const partition = partitionForKey(key, partitions);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(partitions);
      expect(partitionForKey(Uint8Array.from(key), partitions)).toBe(partition);
    }));
  });

  it('refuses a partition that does not exist, naming the topic, its count and the value', () => {
    expect(() => checkPartition('orders', 7, 3)).toThrow('topic "orders" has 3 partitions; partition 7 does not exist');
    expect(() => checkPartition('orders', -1, 1)).toThrow('topic "orders" has 1 partition; partition -1 does not exist');
    expect(checkPartition('orders', 2, 3)).toBe(2);
  });
});

describe('sticky partitioning of keyless records', () => {
  it('keeps a topic on one partition until its batch closes, then moves to the next', () => {
    const sticky = new StickyPartitioner(4);
    expect([sticky.partitionFor('t', 3), sticky.partitionFor('t', 3)]).toEqual([1, 1]);
    sticky.batchClosed('t', 0);
    expect(sticky.partitionFor('t', 3)).toBe(1);
    sticky.batchClosed('t', 1);
    expect([sticky.partitionFor('t', 3), sticky.partitionFor('t', 3)]).toEqual([2, 2]);
    sticky.batchClosed('t', 2);
    expect(sticky.partitionFor('t', 3)).toBe(0);
  });

  it('tracks topics apart and moves off a partition that no longer exists', () => {
    const sticky = new StickyPartitioner(0);
    expect(sticky.partitionFor('a', 5)).toBe(0);
    expect(sticky.partitionFor('b', 5)).toBe(1);
    sticky.batchClosed('a', 0);
    expect(sticky.partitionFor('a', 5)).toBe(2);
    expect(sticky.partitionFor('a', 2)).toBe(1);
  });
});
