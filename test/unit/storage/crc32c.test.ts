import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cCombine } from '../../../src/storage/crc32c.js';

/** The definition, one bit at a time: what the sliced tables must agree with. */
function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c, slicing by 16 over aligned words', () => {
  it('agrees with the bitwise definition at every length and every alignment of the view', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (content, offset) => {
        // A view at `offset` into a larger buffer: the word loop's start depends on byteOffset % 4.
        const backing = new Uint8Array(offset + content.length + 5).fill(0xa5);
        backing.set(content, offset);
        const view = backing.subarray(offset, offset + content.length);
        expect(crc32c(view)).toBe(bitwiseCrc32c(content));
      }),
    );
  });

  it('continues across any split, aligned or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.nat(), (content, at) => {
        const split = content.length === 0 ? 0 : at % (content.length + 1);
        expect(crc32c(content.subarray(split), crc32c(content.subarray(0, split)))).toBe(bitwiseCrc32c(content));
      }),
    );
  });

  it('agrees on a large buffer (whole 16-byte steps and a tail)', () => {
    const bytes = new Uint8Array(70_001);
    for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 7919 + (index >>> 8)) & 0xff;
    expect(crc32c(bytes)).toBe(bitwiseCrc32c(bytes));
    expect(crc32c(bytes.subarray(3))).toBe(bitwiseCrc32c(bytes.subarray(3)));
  });

  it('combines the CRCs of two parts into the CRC of both, whatever their lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 3_000 }), (head, tail) => {
        const whole = new Uint8Array([...head, ...tail]);
        expect(crc32cCombine(crc32c(head), crc32c(tail), tail.length)).toBe(bitwiseCrc32c(whole));
      }),
    );
    // Lengths with high bits set: 1 MiB plus a tail, so the shift uses many of the powers of two.
    const large = new Uint8Array(1_048_576 + 77).map((_, index) => (index * 31) & 0xff);
    expect(crc32cCombine(crc32c(large.subarray(0, 5)), crc32c(large.subarray(5)), large.length - 5)).toBe(crc32c(large));
  });

  it('refuses a length it cannot shift by, naming it', () => {
    expect(() => crc32cCombine(0, 0, 2 ** 28 + 1)).toThrow(`lengthB must be an integer from 0 to ${2 ** 28}, got ${2 ** 28 + 1}`);
    expect(() => crc32cCombine(0, 0, -1)).toThrow('got -1');
  });
});
