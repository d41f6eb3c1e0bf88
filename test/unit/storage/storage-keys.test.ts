import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/storage/crc32c.js';
import { encodeUint64, partitionBatchKey, partitionBatchRange, raftEntryKey } from '../../../src/storage/storage-keys.js';

function compareBytes(left: Uint8Array, right: Uint8Array): number {
  return Buffer.compare(left, right);
}

describe('storage keys', () => {
  it('order numbers bytewise as they order numerically', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (left, right) => {
        expect(Math.sign(compareBytes(raftEntryKey(left), raftEntryKey(right)))).toBe(Math.sign(left - right));
      }),
    );
  });

  it('keep a partition range to that partition', () => {
    const range = partitionBatchRange({ topic: 't', partition: 3 }, 0);
    const inside = partitionBatchKey({ topic: 't', partition: 3 }, Number.MAX_SAFE_INTEGER);
    const neighbours = [
      partitionBatchKey({ topic: 't', partition: 4 }, 0),
      partitionBatchKey({ topic: 't-3', partition: 3 }, 0),
      partitionBatchKey({ topic: 't', partition: 2 }, 9),
    ];
    expect(compareBytes(range.gte, inside) <= 0 && compareBytes(inside, range.lt) < 0).toBe(true);
    for (const key of neighbours) expect(compareBytes(range.gte, key) <= 0 && compareBytes(key, range.lt) < 0).toBe(false);
  });

  it('refuse numbers that are negative, fractional or unsafe, naming them', () => {
    expect(() => encodeUint64(-1)).toThrow('a key number must be a safe non-negative integer, got -1');
    expect(() => encodeUint64(1.5)).toThrow('got 1.5');
    expect(() => encodeUint64(2 ** 53)).toThrow('got 9007199254740992');
    expect(() => partitionBatchKey({ topic: '', partition: 0 }, 0)).toThrow('topic name must be 1 to 249 UTF-8 bytes, got 0');
  });
});

describe('crc32c', () => {
  it('matches the Castagnoli check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('continues over a stream as over the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (head, tail) => {
        expect(crc32c(tail, crc32c(head))).toBe(crc32c(Buffer.concat([head, tail])));
      }),
    );
  });
});
