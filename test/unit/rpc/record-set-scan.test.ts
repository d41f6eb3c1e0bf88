import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Record as WireRecord, RecordSet } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { scanRecordSet } from '../../../src/rpc/services/record-set-scan.js';

/** What the broker checks of each record, as the scan reports it; undefined when it refuses the bytes. */
function scanned(bytes: Uint8Array): Array<[number, number]> | undefined {
  const pairs: Array<[number, number]> = [];
  try {
    const recordCount = scanRecordSet(bytes, (offsetDelta, timestampMs) => pairs.push([offsetDelta, timestampMs]));
    expect(recordCount).toBe(pairs.length);
    return pairs;
  } catch {
    return undefined;
  }
}

/** The same, from the generated decoder; undefined when it refuses the bytes. */
function decoded(bytes: Uint8Array): Array<[number, number]> | undefined {
  try {
    return RecordSet.decode(bytes).records.map((record): [number, number] => [record.offsetDelta, record.timestampMs]);
  } catch {
    return undefined;
  }
}

/** Any record the wire can carry, including offset deltas and timestamps a producer would not send. */
const wireRecordArbitrary: fc.Arbitrary<WireRecord> = fc.record({
  key: fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
  value: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  timestampMs: fc.maxSafeInteger(),
  offsetDelta: fc.nat({ max: 0xffff_ffff }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)) }), { maxLength: 2 }),
});

const encodedRecordSet = fc.array(wireRecordArbitrary, { maxLength: 8 }).map((records) => RecordSet.encode({ records }).finish());

/** An edit of a valid encoding: a flipped byte, a cut, or bytes spliced in. */
const damage: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), position: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), position: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), position: fc.nat(), inserted: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
);

type Edit = { kind: 'flip'; position: number; mask: number } | { kind: 'cut'; position: number } | { kind: 'splice'; position: number; inserted: Uint8Array };

function damaged(bytes: Uint8Array, edit: Edit): Uint8Array {
  const position = bytes.byteLength === 0 ? 0 : edit.position % bytes.byteLength;
  if (edit.kind === 'cut') return bytes.subarray(0, position);
  if (edit.kind === 'splice') return Buffer.concat([bytes.subarray(0, position), edit.inserted, bytes.subarray(position)]);
  const copy = Buffer.from(bytes);
  if (copy.byteLength > 0) copy[position] = (copy[position] as number) ^ edit.mask;
  return copy;
}

describe('scanRecordSet', () => {
  it('reports what the generated decoder decodes for any valid record set', () => {
    fc.assert(
      fc.property(encodedRecordSet, (bytes) => {
        expect(scanned(bytes)).toEqual(decoded(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts nothing the generated decoder refuses, and agrees with it on what it accepts, for damaged record sets', () => {
    fc.assert(
      fc.property(encodedRecordSet, damage, (bytes, edit) => {
        const input = damaged(bytes, edit);
        const fromScan = scanned(input);
        if (fromScan !== undefined) expect(fromScan).toEqual(decoded(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('accepts nothing the generated decoder refuses among arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        const fromScan = scanned(input);
        if (fromScan !== undefined) expect(fromScan).toEqual(decoded(input));
      }),
      { numRuns: 2_000 },
    );
  });

  it('is stricter than the decoder where our encoder never goes: a zero tag, a group, a field past its record', () => {
    const valid = RecordSet.encode({ records: [{ key: Buffer.alloc(0), value: Buffer.from('v'), timestampMs: 5, offsetDelta: 0, headers: [] }] }).finish();
    const zeroTag = Buffer.concat([valid, Buffer.from([0])]);
    expect(decoded(zeroTag)).toEqual([[0, 5]]);
    expect(() => scanRecordSet(zeroTag, () => undefined)).toThrow('illegal tag: field no 0 wire type 0');
    const group = Buffer.concat([valid, Buffer.from([(9 << 3) | 3, (9 << 3) | 4])]);
    expect(() => scanRecordSet(group, () => undefined)).toThrow(/^wire type 3 \(group\) at byte \d+; a RecordSet has no groups$/);
    // A record of length 2 whose value field (length 3) runs past it, into the next bytes.
    const overrun = Buffer.from([(1 << 3) | 2, 2, (2 << 3) | 2, 3, 0x61, 0x62, 0x63]);
    expect(() => scanRecordSet(overrun, () => undefined)).toThrow("a record's last field runs 3 bytes past its length");
  });

  it('names a record set cut short', () => {
    const valid = RecordSet.encode({ records: [{ key: Buffer.alloc(0), value: Buffer.from('value'), timestampMs: 5, offsetDelta: 0, headers: [] }] }).finish();
    expect(() => scanRecordSet(valid.subarray(0, valid.byteLength - 2), () => undefined)).toThrow(/^premature EOF: a \d+-byte message at byte 2 runs past the \d+ bytes of the record set$/);
  });
});
