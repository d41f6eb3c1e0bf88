import { describe, expect, it } from 'vitest';
import { handOverValueBytesMin, packedWriteBatchBytes, packWriteBatch, unpackWriteBatch } from '../../../src/storage/rocksdb/packed-write-batch.js';
import type { KeyValueOperation } from '../../../src/storage/key-value-store.js';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const plain = (operations: ReturnType<typeof unpackWriteBatch>) => operations.map(({ type, key, value }) => ({ type, key: [...key], value: value === undefined ? undefined : value.byteLength }));

describe('packed write batches', () => {
  it('hands a large handed-over value to the write thread as its own buffer, and copies everything else', () => {
    const large = bytes(handOverValueBytesMin, 7);
    const viewIntoLarger = bytes(handOverValueBytesMin * 2, 8).subarray(1, handOverValueBytesMin + 1);
    const operations: KeyValueOperation[] = [
      { type: 'put', key: bytes(3, 1), value: large, handOver: true },
      { type: 'put', key: bytes(3, 2), value: bytes(handOverValueBytesMin - 1, 9), handOver: true },
      { type: 'put', key: bytes(3, 3), value: bytes(handOverValueBytesMin, 5) },
      { type: 'put', key: bytes(3, 4), value: viewIntoLarger, handOver: true },
      { type: 'del', key: bytes(2, 6) },
    ];
    const batch = packWriteBatch(operations);
    // Only the first travels whole: the second is small, the third was not handed over, the fourth shares its buffer.
    expect(batch.values).toEqual([large.buffer]);
    expect(batch.packed.byteLength).toBe(packedWriteBatchBytes(batch) - handOverValueBytesMin);
    const unpacked = unpackWriteBatch(batch);
    expect(plain(unpacked)).toEqual([
      { type: 'put', key: [1, 1, 1], value: handOverValueBytesMin },
      { type: 'put', key: [2, 2, 2], value: handOverValueBytesMin - 1 },
      { type: 'put', key: [3, 3, 3], value: handOverValueBytesMin },
      { type: 'put', key: [4, 4, 4], value: handOverValueBytesMin },
      { type: 'del', key: [6, 6], value: undefined },
    ]);
    expect(unpacked.map((operation) => operation.value?.[0])).toEqual([7, 9, 5, 8, undefined]);
  });

  it('refuses a batch that names a handed-over value it did not bring, naming the index', () => {
    const batch = packWriteBatch([{ type: 'put', key: bytes(1, 1), value: bytes(handOverValueBytesMin, 1), handOver: true }]);
    expect(() => unpackWriteBatch({ packed: batch.packed, values: [] })).toThrow('packed write batch: handed-over value 0 is missing (0 sent)');
  });
});
