import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumBytes, checksumValue, sealChecksummedValue, verifyChecksummedValue } from '../../../src/storage/checksummed-value.js';

describe('checksummed values', () => {
  it('sealing a payload built behind the checksum room frames it as checksumValue does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (payload) => {
        const built = new Uint8Array(checksumBytes + payload.byteLength);
        built.set(payload, checksumBytes);
        const sealed = sealChecksummedValue(built);
        expect(sealed).toBe(built);
        expect(sealed).toEqual(checksumValue(payload));
        expect(verifyChecksummedValue(sealed, 'test value')).toEqual(payload);
      }),
    );
  });

  it('refuses a value with no room for the checksum', () => {
    expect(() => sealChecksummedValue(new Uint8Array(checksumBytes - 1))).toThrow(/at least 4 bytes, got 3/);
  });
});
